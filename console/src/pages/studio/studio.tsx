import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../../api.js';
import { IfAllowed } from '../../app.js';
import { useSession } from '../../session.js';
import { Badge, Checkbox, Empty, Notice, ProblemMessage, Resource, Section, TextInput, useAction, useApi, type FormEvent } from '../../ui.js';
import { RulesEditor, type EditorHandle, type Fault } from './editor.js';
import { RuleResult, type PreviewAnswer, type ShownPreview } from './preview.js';
import { SampleChooser, sampleBody, type Sample } from './sample.js';
import { VersionDiff, VersionList, versionText, type StoredVersion, type Version } from './versions.js';
import { addExclusion, canonical, convertText, pointerPosition, readRules, replaceRule, ruleLines, type Exclusion, type Format, type Rule } from './yaml-edit.js';
import './studio.css';

/**
 * The mapping studio: the rules as text in an editor (YAML or JSON, completion from the rule
 * schema and the sample's fields, the server's faults in place), a live preview on collected
 * or pasted data, comparison with the published version, publish, versions with a line diff
 * and restore, pack overrides with reset, and exclusions from failing records.
 */

export interface StudioMapping extends StoredVersion {
  id: string; name: string; pack: string | null; message?: string | null; created_by?: string | null;
}
interface Pack { id: string; name: string; rules: Rule[] }

const DEBOUNCE_MS = 300;

/** Faults of a 400 answer that name a place in the text. */
function faultsOf(error: unknown): Fault[] | null {
  if (!(error instanceof ApiError) || error.status !== 400) return null;
  const errors = (error.problem.errors ?? []) as { pointer: string; message: string; line?: number; column?: number; document_pointer?: string }[];
  const placed = errors.filter((e) => e.pointer === '/source/text');
  if (!placed.length) return null;
  return placed.map((e) => ({ message: e.message, line: e.line, column: e.column, pointer: e.document_pointer }));
}

export function Studio(props: { mapping: StudioMapping; keyNames: Map<string, string> | null; onPublished: () => void }) {
  const base = `/api/v1/mappings/${encodeURIComponent(props.mapping.id)}`;
  const { can } = useSession();
  const canWrite = can('config:write');
  const [published, setPublished] = useState<StudioMapping>(props.mapping);
  const publishedText = versionText(published);
  const [format, setFormat] = useState<Format>(published.source_format ?? 'yaml');
  const [text, setText] = useState(publishedText);
  const textRef = useRef(text);
  textRef.current = text;
  const editor = useRef<EditorHandle | null>(null);
  const [faults, setFaults] = useState<Fault[]>([]);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad' | 'info'; text: string } | null>(null);

  const versions = useApi<{ data: Version[] }>(`${base}/versions`);
  const packs = useApi<{ data: Pack[] }>('/api/v1/mapping-packs');
  const schema = useApi<Record<string, unknown>>('/api/v1/mappings/rule-schema');
  const [fields, setFields] = useState<string[]>([]);
  const completion = useMemo(() => ({ schema: schema.data ?? null, fields }), [schema.data, fields]);

  // The rules as they stand (the last text that parsed), for datasets and pack status.
  const parsed = useMemo(() => readRules(text), [text]);
  const lastRules = useRef<Rule[]>(published.rules as Rule[]);
  if (parsed) lastRules.current = parsed;
  const rules = lastRules.current;
  const datasets = useMemo(() => new Set(rules.map((r) => r.dataset).filter((d): d is string => typeof d === 'string')), [rules]);
  const packId = published.pack ?? versions.data?.data.find((v) => v.pack)?.pack ?? null;
  const pack = packs.data?.data.find((p) => p.id === packId) ?? null;
  const packRules = useMemo(() => new Map((pack?.rules ?? []).map((r) => [String(r.id), r])), [pack]);
  const overridden = useMemo(() => new Set(rules.filter((r) => r.id && packRules.has(r.id) && canonical(packRules.get(r.id)) !== canonical(r)).map((r) => r.id!)), [rules, packRules]);

  // ------------------------------------------------------------ the live preview
  const [sample, setSample] = useState<Sample | null>(null);
  const [compare, setCompare] = useState(false);
  const [shown, setShown] = useState<ShownPreview | null>(null);
  const [running, setRunning] = useState(false);
  const [previewError, setPreviewError] = useState<unknown>(null);
  /** The text as it stands does not parse or compile (the preview shown is of an earlier text). */
  const [broken, setBroken] = useState(false);
  const runner = useRef<{ seq: number; controller: AbortController | null; timer: ReturnType<typeof setTimeout> | undefined; immediate: boolean }>({ seq: 0, controller: null, timer: undefined, immediate: false });
  const sampleKey = sample ? JSON.stringify(sampleBody(sample, datasets)) : '';
  const latest = published.version;

  useEffect(() => {
    const r = runner.current;
    clearTimeout(r.timer);
    if (!sample) return;
    const delay = r.immediate ? 0 : DEBOUNCE_MS;
    r.immediate = false;
    r.timer = setTimeout(() => { void preview(); }, delay);
  }, [text, format, sampleKey, compare, latest]);
  useEffect(() => () => { clearTimeout(runner.current.timer); runner.current.controller?.abort(); }, []);

  async function preview() {
    const r = runner.current;
    if (!sample) return;
    const seq = ++r.seq;
    r.controller?.abort(); // the server stops the superseded evaluation
    const controller = new AbortController();
    r.controller = controller;
    const body: Record<string, unknown> = {
      source: { text: textRef.current, format }, ...sampleBody(sample, datasets),
      ...(compare ? { compare_with: { mapping_id: published.id, version: published.version } } : {}),
    };
    const sentText = textRef.current;
    setRunning(true);
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await api<PreviewAnswer>('/api/v1/mappings/preview', { method: 'POST', body, signal: controller.signal });
        if (seq !== r.seq) return; // a newer text is on its way: never show this one
        setShown({ answer, body, seq });
        setPreviewError(null);
        setBroken(false);
        setFaults(answer.errors.flatMap((e) => {
          const at = e.pointer ? pointerPosition(sentText, e.pointer.startsWith('/rules') || e.pointer === '' ? e.pointer : `/rules${e.pointer}`) : null;
          return at ? [{ message: `${e.rule_id}: ${e.message}`, ...at, pointer: e.pointer }] : [];
        }));
        break;
      } catch (err) {
        if (controller.signal.aborted || seq !== r.seq) return;
        if (err instanceof ApiError && err.status === 429 && attempt < 20) { await new Promise((done) => setTimeout(done, 1000)); if (seq !== r.seq) return; continue; }
        const placed = faultsOf(err);
        if (placed) { setFaults(placed); setBroken(true); setPreviewError(null); } else setPreviewError(err);
        break;
      }
    }
    if (seq === r.seq) setRunning(false);
  }

  /** A change made for the user (exclusion, reset): into the editor, and previewed at once. */
  const edit = (next: string) => {
    runner.current.immediate = true;
    if (editor.current) editor.current.replace(next); else setText(next);
  };
  const onExclude = async (ruleId: string, exclusion: Exclusion): Promise<string | null> => {
    try {
      edit(addExclusion(textRef.current, format, ruleId, exclusion));
      setNotice({ tone: 'info', text: `Record ${String(exclusion.id)} excluded from ${ruleId} in the text: publish to make it count for runs.` });
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const resetRule = (ruleId: string) => {
    const packRule = packRules.get(ruleId);
    if (!packRule) return;
    try {
      edit(replaceRule(textRef.current, format, ruleId, packRule));
      setNotice({ tone: 'info', text: `${ruleId} reset to the ${pack?.name ?? packId} pack’s rule (not yet published).` });
    } catch (err) {
      setNotice({ tone: 'bad', text: (err as Error).message });
    }
  };
  const switchFormat = (to: Format) => {
    if (to === format) return;
    try {
      edit(convertText(textRef.current, to));
      setFormat(to);
    } catch (err) {
      setNotice({ tone: 'bad', text: (err as Error).message });
    }
  };

  // ------------------------------------------------------------ publish and restore
  const [message, setMessage] = useState('');
  const publish = useAction(async () => {
    try {
      const saved = await api<StudioMapping>(base, { method: 'PUT', body: { source: { text: textRef.current, format }, ...(message.trim() ? { message: message.trim() } : {}) } });
      setPublished(saved);
      setMessage('');
      setFaults([]);
      setNotice({ tone: 'good', text: `Published version ${saved.version}: jobs that follow the latest version use it from their next run.` });
      versions.reload();
      props.onPublished();
    } catch (err) {
      const placed = faultsOf(err);
      if (placed) setFaults(placed);
      throw err;
    }
  });
  const restore = useAction(async (v: number) => {
    const saved = await api<StudioMapping>(`${base}/versions/${v}/restore`, { method: 'POST' });
    const wasEdited = textRef.current !== publishedText;
    setPublished(saved);
    if (!wasEdited) { if (saved.source_format) setFormat(saved.source_format); edit(versionText(saved)); }
    setNotice({ tone: 'good', text: `Version ${v} restored as version ${saved.version}.${wasEdited ? ' Your unpublished changes are still in the editor.' : ''}` });
    versions.reload();
    props.onPublished();
  });

  const dirty = text !== publishedText;
  const hintId = useId();
  const lines = useMemo(() => (parsed ? ruleLines(text) : new Map<string, number>()), [parsed, text]);
  const answer = shown?.answer;
  const changedCount = answer?.comparison?.filter((c) => c.changed).length ?? 0;
  const resultChanges = answer?.comparison?.filter((c) => c.before !== c.after).length ?? 0;

  return (
    <div class="studio">
      {notice && <Notice tone={notice.tone}>{notice.text}</Notice>}
      {restore.error ? <ProblemMessage error={restore.error} action="restore the version" /> : null}
      <div class="studio-grid">
        <Section title="Rules" actions={
          <div class="editor-tools">
            {dirty ? <Badge value="pending" label="unpublished changes" /> : <Badge value="active" label={`version ${published.version}`} />}
            <div class="segmented" role="group" aria-label="Format">
              {(['yaml', 'json'] as const).map((f) => (
                <button key={f} type="button" class="secondary" aria-pressed={format === f} onClick={() => switchFormat(f)}>{f.toUpperCase()}</button>
              ))}
            </div>
          </div>
        }>
          <p class="muted small editor-hint" id={hintId}>
            {canWrite ? 'Ctrl-Space completes keys, values and field names. Tab leaves the editor; Ctrl-] and Ctrl-[ indent.' : 'Read-only for this key: edits preview but cannot be published.'}
          </p>
          <div class="editor-frame">
            <RulesEditor initial={text} format={format} faults={faults} completion={completion} handle={editor} describedBy={hintId} onChange={setText} />
          </div>
          {faults.length > 0 && (
            <div class="faults" role="status">
              <strong>{faults.length === 1 ? '1 problem' : `${faults.length} problems`} in the text</strong>
              <ul>{faults.map((f, i) => (
                <li key={i}><button type="button" class="link" onClick={() => editor.current?.goToLine(f.line ?? 1)}>Line {f.line ?? 1}{f.column ? `, column ${f.column}` : ''}</button>: {f.message}</li>
              ))}</ul>
            </div>
          )}
          <RuleOutline rules={rules} lines={lines} packName={pack?.name ?? null} packRules={packRules} overridden={overridden} canWrite={canWrite}
            onGo={(line) => editor.current?.goToLine(line)} onReset={resetRule} />
          <IfAllowed scope="config:write">
            <form class="publish" noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); void publish.run(); }}>
              <TextInput label="Message" value={message} onInput={setMessage} placeholder="What changed and why" hint="Shown in the version list." />
              <button type="submit" disabled={publish.busy || !dirty}>{publish.busy ? 'Publishing…' : 'Publish'}</button>
            </form>
            {publish.error ? <ProblemMessage error={publish.error} action="publish" /> : null}
          </IfAllowed>
        </Section>

        <Section title="Preview">
          <SampleChooser mappingId={published.id} value={sample} onChange={setSample} onFields={setFields} />
          <Checkbox label="Compare with published" checked={compare} onChange={setCompare}
            hint={`Also evaluates version ${published.version} on the same data and shows what changes.`} />
          <p class={`preview-status ${running ? 'busy' : ''}`} role="status">
            {!sample ? 'Choose sample data to preview the rules.'
              : running ? 'Updating the preview…'
                : broken ? 'The text has problems: the preview shows the last text that worked.'
                  : answer ? `Preview of ${sample.label}.` : ''}
          </p>
          {previewError ? <ProblemMessage error={previewError} action="preview the rules" /> : null}
          {answer && compare && answer.comparison && (
            <p class="comparison-summary">
              {changedCount === 0 ? `No check changes against version ${published.version}.` : `${resultChanges} of ${answer.comparison.length} checks change result against version ${published.version}; ${changedCount} change which records fail.`}
            </p>
          )}
          {answer && (
            <div class={`results ${broken ? 'stale' : ''}`}>
              {answer.evidence.length === 0 && <Empty>No enabled rule produced evidence.</Empty>}
              {answer.evidence.map((item) => (
                <RuleResult key={`${shown!.seq}:${item.rule_id}`} item={item} body={shown!.body} overridden={overridden.has(item.rule_id)}
                  stats={answer.stats.find((s) => s.rule_id === item.rule_id)} errors={answer.errors.filter((e) => e.rule_id === item.rule_id)}
                  comparison={answer.comparison?.find((c) => c.rule_id === item.rule_id)} canExclude={canWrite} onExclude={onExclude} />
              ))}
            </div>
          )}
        </Section>
      </div>

      <Section title="Versions">
        <Resource fetched={versions} label="Loading versions…" empty={(d) => d.data.length === 0} emptyText="No versions.">
          {(d) => (
            <>
              <VersionList versions={d.data} latest={published.version} keyNames={props.keyNames} restoring={restore.busy} onRestore={(v) => { void restore.run(v); }} />
              {d.data.length > 1 && (
                <>
                  <h3>Compare versions</h3>
                  <VersionDiff base={base} versions={d.data} latest={published.version} />
                </>
              )}
            </>
          )}
        </Resource>
      </Section>
    </div>
  );
}

function RuleOutline(props: {
  rules: Rule[]; lines: Map<string, number>; packName: string | null; packRules: Map<string, Rule>; overridden: Set<string>; canWrite: boolean;
  onGo: (line: number) => void; onReset: (ruleId: string) => void;
}) {
  if (!props.rules.length) return null;
  return (
    <div class="outline">
      <h3>{props.rules.length} rule{props.rules.length === 1 ? '' : 's'}{props.packName && <span class="muted small"> · from the {props.packName} pack, {props.overridden.size} overridden</span>}</h3>
      <ul>
        {props.rules.map((r, i) => {
          const id = r.id ?? `#${i + 1}`;
          const line = r.id ? props.lines.get(r.id) : undefined;
          return (
            <li key={id}>
              {line ? <button type="button" class="link mono" onClick={() => props.onGo(line)}>{id}<span class="visually-hidden"> (go to line {line})</span></button> : <span class="mono">{id}</span>}
              {r.enabled === false && <Badge value="disabled" />}
              {props.packName && r.id && (props.overridden.has(r.id)
                ? <span class="badge tone-warn">overridden</span>
                : props.packRules.has(r.id) ? <span class="badge tone-muted">as in pack</span> : <span class="badge tone-info">not in pack</span>)}
              {props.canWrite && r.id && props.overridden.has(r.id) && (
                <button type="button" class="secondary small-button" onClick={() => props.onReset(r.id!)}>Reset to pack<span class="visually-hidden">: {r.id}</span></button>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
