import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { IfAllowed } from '../../app.js';
import { Badge, Loading, ProblemMessage, Select, Table, Time } from '../../ui.js';
import { diffLines, diffStats, sideBySide } from './diff.js';
import { rulesToText } from './yaml-edit.js';

export interface Version {
  version: number; pack: string | null; restored_from: number | null; created_by: string | null; created_at: string;
  message?: string | null; pinned_jobs?: { id: string; name: string }[];
}
export interface StoredVersion { version: number; rules: unknown[]; source?: string | null; source_format?: 'yaml' | 'json' | null }

/** A version's text: as written, or its rules rendered as YAML. */
export function versionText(v: StoredVersion): string {
  return v.source ?? rulesToText(v.rules, 'yaml');
}

export function VersionList(props: {
  versions: Version[]; latest: number; keyNames: Map<string, string> | null; restoring: boolean;
  onRestore: (version: number) => void;
}) {
  return (
    <Table caption="Versions, newest first" head={['Version', 'Published by', 'Time', 'Message', 'Jobs pinned to it', '']}>
      {props.versions.map((v) => (
        <tr key={v.version}>
          <td class="num nowrap">{v.version}{v.version === props.latest && <> <Badge value="active" label="latest" /></>}</td>
          <td>{v.created_by
            ? <>{props.keyNames?.get(v.created_by) && <span class="key-name">{props.keyNames.get(v.created_by)} </span>}<span class="mono small">{v.created_by}</span></>
            : <span class="muted">—</span>}</td>
          <td class="nowrap"><Time value={v.created_at} /></td>
          <td>
            {v.message && <span class="version-message">{v.message}</span>}
            {v.restored_from ? <span class="muted small">Restored from version {v.restored_from}</span> : v.pack ? <span class="muted small">From the <code>{v.pack}</code> pack</span> : null}
            {!v.message && !v.restored_from && !v.pack && <span class="muted">—</span>}
          </td>
          <td>{v.pinned_jobs?.length ? v.pinned_jobs.map((j) => <a key={j.id} class="pinned" href={`/jobs/${j.id}`}>{j.name}</a>) : <span class="muted">—</span>}</td>
          <td>
            {v.version !== props.latest && (
              <IfAllowed scope="config:write">
                <button type="button" class="secondary small-button" disabled={props.restoring} onClick={() => props.onRestore(v.version)}>
                  Restore<span class="visually-hidden"> version {v.version}</span>
                </button>
              </IfAllowed>
            )}
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Two versions' texts side by side, line by line. */
export function VersionDiff(props: { base: string; versions: Version[]; latest: number }) {
  const numbers = props.versions.map((v) => v.version);
  const [from, setFrom] = useState(String(Math.max(1, props.latest - 1)));
  const [to, setTo] = useState(String(props.latest));
  useEffect(() => { setFrom(String(Math.max(1, props.latest - 1))); setTo(String(props.latest)); }, [props.latest]);
  const [texts, setTexts] = useState<{ key: string; a: string; b: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = `${from}:${to}`;
  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    const read = (v: string) => api<StoredVersion>(`${props.base}/versions/${v}`, { signal: controller.signal }).then(versionText);
    Promise.all([read(from), read(to)]).then(([a, b]) => setTexts({ key, a, b }), (err: Error) => { if (err.name !== 'AbortError') setError(err); });
    return () => controller.abort();
  }, [key, props.base]);
  const rows = useMemo(() => (texts ? sideBySide(diffLines(texts.a, texts.b)) : []), [texts]);
  const stats = useMemo(() => (texts ? diffStats(diffLines(texts.a, texts.b)) : null), [texts]);
  const options = numbers.map((n) => ({ value: String(n), label: `Version ${n}` }));
  return (
    <div class="version-diff">
      <div class="filters">
        <Select label="Compare version" value={from} onChange={setFrom} options={options} />
        <Select label="with version" value={to} onChange={setTo} options={options} />
      </div>
      {error ? <ProblemMessage error={error} action="read the versions" /> : null}
      {!texts || texts.key !== key ? (!error && <Loading label="Loading the versions…" />) : (
        <>
          <p class="muted small" role="status">
            {stats && stats.added + stats.removed === 0 ? `Versions ${from} and ${to} have the same text.` : `From version ${from} to ${to}: ${stats?.added} lines added, ${stats?.removed} removed.`}
          </p>
          <div class="diff-wrap" tabIndex={0} role="region" aria-label={`Changes from version ${from} to version ${to}`}>
            <table class="diff">
              <caption class="visually-hidden">Version {from} on the left, version {to} on the right</caption>
              <colgroup><col class="ln-col" /><col /><col class="ln-col" /><col /></colgroup>
              <thead><tr><th scope="col" colSpan={2}>Version {from}</th><th scope="col" colSpan={2}>Version {to}</th></tr></thead>
              <tbody>
                {collapse(rows).map((row, i) => row === null
                  ? <tr key={i} class="gap"><td colSpan={4}>⋯ unchanged lines</td></tr>
                  : (
                    <tr key={i} class={`d-${row.kind}`}>
                      <td class="ln">{row.left?.line ?? ''}</td>
                      <td class={`code ${row.left && row.kind !== 'same' ? 'del' : ''}`}>{row.left ? <><span class="visually-hidden">{row.kind === 'same' ? '' : 'removed: '}</span>{row.left.text}</> : ''}</td>
                      <td class="ln">{row.right?.line ?? ''}</td>
                      <td class={`code ${row.right && row.kind !== 'same' ? 'add' : ''}`}>{row.right ? <><span class="visually-hidden">{row.kind === 'same' ? '' : 'added: '}</span>{row.right.text}</> : ''}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

/** Unchanged stretches longer than 7 lines shrink to 3 lines of context around the changes. */
function collapse<T extends { kind: string }>(rows: T[]): (T | null)[] {
  const keep = rows.map((r) => r.kind !== 'same');
  const near = rows.map((_, i) => keep.slice(Math.max(0, i - 3), i + 4).some(Boolean));
  if (!keep.some(Boolean)) return [...rows.slice(0, 20), ...(rows.length > 20 ? [null] : [])];
  const out: (T | null)[] = [];
  rows.forEach((r, i) => { if (near[i]) out.push(r); else if (out.at(-1) !== null) out.push(null); });
  return out;
}
