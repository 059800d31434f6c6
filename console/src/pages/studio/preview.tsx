import { useState } from 'preact/hooks';
import { api } from '../../api.js';
import { Badge, Json, ProblemMessage, TextInput, type FormEvent } from '../../ui.js';
import type { Exclusion } from './yaml-edit.js';

/** What a preview answers, and how the panel shows each rule's evidence. */

export interface EvidenceDraft {
  rule_id: string; dataset: string; control_ref: string; title: string; result: 'pass' | 'fail' | 'info' | 'error';
  payload: Record<string, unknown>; payload_sha256: string; question_match?: string; question_id?: string;
}
export interface Comparison { rule_id: string; before: string | null; after: string | null; changed: boolean; now_failing: unknown[]; now_passing: unknown[] }
export interface PreviewAnswer {
  evidence: EvidenceDraft[];
  errors: { rule_id: string; dataset: string; message: string; pointer?: string }[];
  stats: { rule_id: string; selected: number; matched: number; excluded: number }[];
  comparison?: Comparison[];
}
export interface ShownPreview { answer: PreviewAnswer; body: Record<string, unknown>; seq: number }
interface FailingRecord { id: unknown; label?: unknown; fails: string[] }

interface Evaluation { counts?: { failing?: number; selected?: number; matched?: number; excluded?: number; total?: number }; assertions?: { description?: string; kind: string; failing?: { items: { id: unknown; label?: unknown }[]; total: number } }[] }

/** The failing records an item's payload lists (each once, with what it fails), and how many fail in all. */
function failingOf(item: EvidenceDraft): { records: FailingRecord[]; total: number } {
  const evaluation = item.payload._evaluation as Evaluation | undefined;
  const byId = new Map<string, FailingRecord>();
  let listedTotal = 0;
  for (const assertion of evaluation?.assertions ?? []) {
    listedTotal = Math.max(listedTotal, assertion.failing?.total ?? 0);
    for (const record of assertion.failing?.items ?? []) {
      const key = JSON.stringify(record.id ?? null);
      const what = assertion.description ?? assertion.kind;
      const seen = byId.get(key);
      if (seen) seen.fails.push(what); else byId.set(key, { id: record.id ?? null, label: record.label, fails: [what] });
    }
  }
  return { records: [...byId.values()].slice(0, 50), total: evaluation?.counts?.failing ?? listedTotal };
}

const idText = (id: unknown) => (typeof id === 'string' ? id : JSON.stringify(id));

export function RuleResult(props: {
  item: EvidenceDraft; stats?: PreviewAnswer['stats'][number]; errors: PreviewAnswer['errors']; comparison?: Comparison; body: Record<string, unknown>;
  canExclude: boolean; onExclude: (ruleId: string, exclusion: Exclusion) => Promise<string | null>; overridden?: boolean;
}) {
  const { item } = props;
  const first = failingOf(item);
  const [more, setMore] = useState<{ records: FailingRecord[]; total: number } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const records = more ? [...first.records, ...more.records] : first.records;
  const total = more?.total ?? first.total;
  const headingId = `rule-${item.rule_id}`;
  const labels = new Map(records.map((r) => [JSON.stringify(r.id), r.label]));

  const loadMore = async () => {
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await api<{ total: number; records: FailingRecord[] }>('/api/v1/mappings/preview/failing-records', {
        method: 'POST', body: { ...props.body, compare_with: undefined, rule_id: item.rule_id, offset: records.length, limit: 100 },
      });
      const seen = new Set(records.map((r) => JSON.stringify(r.id)));
      setMore((m) => ({ records: [...(m?.records ?? []), ...page.records.filter((r) => !seen.has(JSON.stringify(r.id)))], total: page.total }));
    } catch (err) {
      setMoreError(err);
    } finally {
      setLoadingMore(false);
    }
  };

  const c = props.comparison;
  return (
    <article class={`rule-result result-${item.result}`} aria-labelledby={headingId}>
      <header>
        <Badge value={item.result} />
        <h3 id={headingId}><span class="mono rule-id">{item.rule_id}</span>{props.overridden && <span class="badge tone-warn">differs from pack</span>}</h3>
      </header>
      <p class="rule-title">{item.title}</p>
      <p class="rule-counts">
        {props.stats ? <><strong>{props.stats.matched}</strong> of <strong>{props.stats.selected}</strong> selected match</> : null}
        {total > 0 && <> · <strong class="failing-count">{total}</strong> failing</>}
        {props.stats && props.stats.excluded > 0 && <> · {props.stats.excluded} excluded</>}
        <span class="muted"> · {item.dataset}</span>
      </p>
      {c && (
        <p class={`comparison ${c.changed ? 'changed' : ''}`}>
          {c.before === c.after
            ? <>Published: same result ({c.after ?? 'none'})</>
            : <>Published: <Badge value={c.before ?? 'disabled'} label={c.before ?? 'none'} /> → now <Badge value={c.after ?? 'disabled'} label={c.after ?? 'none'} /></>}
          {c.now_failing.length > 0 && <span class="flip"> · {c.now_failing.length} now failing: {c.now_failing.slice(0, 5).map((id) => String(labels.get(JSON.stringify(id)) ?? idText(id))).join(', ')}{c.now_failing.length > 5 ? '…' : ''}</span>}
          {c.now_passing.length > 0 && <span class="flip"> · {c.now_passing.length} now passing: {c.now_passing.slice(0, 5).map(idText).join(', ')}{c.now_passing.length > 5 ? '…' : ''}</span>}
        </p>
      )}
      {props.errors.map((e, i) => <p key={i} class="rule-error" role="note"><strong>Error:</strong> {e.message}{e.pointer && <code class="small"> {e.pointer}</code>}</p>)}
      {records.length > 0 && (
        <details class="failing" open={item.result === 'fail'}>
          <summary>Failing records ({records.length}{total > records.length ? ` of ${total}` : ''})</summary>
          <ul class="failing-list">
            {records.map((r) => <FailingRow key={JSON.stringify(r.id)} ruleId={item.rule_id} record={r} canExclude={props.canExclude} onExclude={props.onExclude} />)}
          </ul>
          {total > records.length && (
            <div class="more"><button type="button" class="secondary small-button" onClick={() => { void loadMore(); }} disabled={loadingMore}>{loadingMore ? 'Loading…' : 'Show more failing records'}</button></div>
          )}
          {moreError ? <ProblemMessage error={moreError} action="load more failing records" /> : null}
        </details>
      )}
      <details class="payload">
        <summary>Payload as it would be pushed</summary>
        <Json value={item.payload} label={`Payload of ${item.rule_id}`} />
        <p class="muted small mono">sha256 {item.payload_sha256}</p>
      </details>
    </article>
  );
}

function FailingRow(props: { ruleId: string; record: FailingRecord; canExclude: boolean; onExclude: (ruleId: string, exclusion: Exclusion) => Promise<string | null> }) {
  const r = props.record;
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [tried, setTried] = useState(false);
  const name = r.label !== undefined && r.label !== null ? String(r.label) : idText(r.id);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (!reason.trim()) return;
    const problem = await props.onExclude(props.ruleId, { id: r.id as string | number, reason: reason.trim(), ...(expires ? { expires } : {}) });
    if (problem) setError(problem); else setOpen(false);
  };
  return (
    <li>
      <div class="failing-row">
        <span class="failing-who"><span>{name}</span>{r.label !== undefined && <span class="mono muted small"> {idText(r.id)}</span>}</span>
        <span class="muted small failing-why">{r.fails.join('; ')}</span>
        {props.canExclude && !open && (
          <button type="button" class="secondary small-button" onClick={() => setOpen(true)}>Exclude<span class="visually-hidden"> {name}</span></button>
        )}
      </div>
      {open && (
        <form class="exclude-form" onSubmit={(e) => { void submit(e); }} noValidate aria-label={`Exclude ${name}`}>
          <TextInput label="Reason" value={reason} onInput={setReason} required error={tried && !reason.trim() ? 'Say why this record is excluded.' : undefined} />
          <TextInput label="Expires (optional)" type="date" value={expires} onInput={setExpires} hint="After this day the record counts again." />
          {error && <p class="field-error" role="alert">{error}</p>}
          <div class="actions">
            <button type="submit">Add exclusion</button>
            <button type="button" class="secondary" onClick={() => { setOpen(false); setError(null); }}>Cancel<span class="visually-hidden"> excluding {name}</span></button>
          </div>
        </form>
      )}
    </li>
  );
}
