import { useEffect, useState } from 'preact/hooks';
import { listAll, withQuery } from '../api.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { NeedsScope } from '../app.js';
import {
  Badge, Empty, Json, KeyValues, MoreButton, Notice, Page, Resource, Section, Select, Table, Time, useApi, usePaged, type Fetched,
} from '../ui.js';
import './posture.css';

/** Posture: where every check stands now, how the frameworks are covered, and one check's history. */

const CHECK_STATUSES = ['fail', 'error', 'stale', 'info', 'pass'] as const;
/** Failing and stale checks first: what needs attention comes before what is fine. */
const ATTENTION_ORDER: Record<string, number> = { fail: 0, stale: 1, error: 2, info: 3, pass: 4 };
const STATUS_LABELS: Record<string, string> = { fail: 'Failing', error: 'Errors', stale: 'Stale', info: 'Informational', pass: 'Passing' };
const STATUS_TONES: Record<string, string> = { fail: 'bad', error: 'bad', stale: 'warn', info: '', pass: 'good' };

type StatusCounts = Record<string, number>;
interface Posture { checks: StatusCounts; frameworks: Record<string, StatusCounts>; as_of: string }
interface Check {
  id: string; job_id: string; rule_id: string; connection_id: string | null; control_ref: string; question_match: string | null;
  title: string; status: string; result: string; last_result_at: string; fresh_until: string; changed_at: string;
  failing_count: number | null; evidence_id: string; references: Record<string, string | string[]>;
}
interface FrameworkSummary { id: string; name: string; version: string; source: string; requirements: number; covered: number }
interface RequirementCoverage {
  id: string; title: string | null; group: string; status: string;
  checks: { id: string; title: string; status: string }[]; check_counts: StatusCounts;
}
interface Framework extends FrameworkSummary { by_status: StatusCounts; requirement_coverage: RequirementCoverage[] }
interface HistoryEntry {
  evidence_id: string; run_id: string | null; result: string; title: string; delivery_status: string;
  observed_at: string; recorded_at: string; delivered_at: string | null; transition: { from: string; to: string } | null;
}
interface Assertion {
  kind: string; description?: string; passed: boolean; actual?: unknown; op?: string; expected?: unknown;
  failing?: { items: { id: unknown; label?: unknown }[]; total: number; truncated: boolean };
}
interface Evaluation {
  result?: string; not_met?: string[]; error?: string; empty_selection?: string;
  counts?: Record<string, number>; assertions?: Assertion[];
}
interface Evidence { id: string; title: string; result: string; source: string; status: string; observed_at: string | null; payload?: Record<string, unknown> }

const OPS: Record<string, string> = { gte: 'at least', gt: 'more than', lte: 'at most', lt: 'fewer than', eq: 'exactly', ne: 'other than' };
const statusLabel = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const refList = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** Names by id for the jobs and connections a check names (only with config:read; ids otherwise). */
function useNames(): Map<string, string> | null {
  const { can } = useSession();
  const allowed = can('config:read');
  const [names, setNames] = useState<Map<string, string> | null>(null);
  useEffect(() => {
    if (!allowed) return;
    Promise.all([listAll<{ id: string; name: string }>('/api/v1/jobs'), listAll<{ id: string; name: string }>('/api/v1/connections')])
      .then(([jobs, connections]) => setNames(new Map([...jobs, ...connections].map((x) => [x.id, x.name]))), () => setNames(null));
  }, [allowed]);
  return names;
}

function Named(props: { id: string | null; names: Map<string, string> | null; href: string }) {
  if (!props.id) return <span class="muted">—</span>;
  const name = props.names?.get(props.id);
  return <a href={props.href}>{name ?? <span class="mono">{props.id}</span>}</a>;
}

// ---------------------------------------------------------------- /

export function PosturePage() {
  return <NeedsScope scope="evidence:read" title="Posture"><PostureOverview /></NeedsScope>;
}

function PostureOverview() {
  const location = useLocation();
  const status = location.query.get('status') ?? '';
  const framework = location.query.get('framework') ?? '';
  const posture = useApi<Posture>('/api/v1/posture');
  const frameworks = useApi<{ data: FrameworkSummary[] }>('/api/v1/frameworks');
  const checks = usePaged<Check>('/api/v1/checks', { status, framework, limit: 500 });
  const names = useNames();
  const setFilter = (next: { status?: string; framework?: string }) => navigate(withQuery('/', { status, framework, ...next }), { replace: true });
  const filtered = Boolean(status || framework);

  const frameworkNames = new Map((frameworks.data?.data ?? []).map((f) => [f.id, f.name]));
  const frameworkIds = [...new Set([...frameworkNames.keys(), ...Object.keys(posture.data?.frameworks ?? {}), ...(framework ? [framework] : [])])];
  const frameworkOptions = [{ value: '', label: 'All frameworks' }, ...frameworkIds.map((id) => ({ value: id, label: frameworkNames.get(id) ?? id }))];

  return (
    <Page title="Posture" description="Where every check stands now: each rule of each job's mapping, with its latest result. Failing and stale checks come first.">
      <Resource fetched={posture} label="Loading the posture…">
        {(p) => <PostureTiles posture={p} onPick={(s) => setFilter({ status: s })} current={status} />}
      </Resource>

      <Section title="Checks">
        <div class="filters" role="search" aria-label="Filter checks">
          <Select label="Status" value={status} onChange={(v) => setFilter({ status: v })}
            options={[{ value: '', label: 'All statuses' }, ...CHECK_STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))]} />
          <Select label="Framework" value={framework} onChange={(v) => setFilter({ framework: v })} options={frameworkOptions} />
          {filtered && <button type="button" class="secondary" onClick={() => navigate('/', { replace: true })}>Clear filters</button>}
        </div>
        <Resource fetched={checks} label="Loading checks…" empty={(rows) => rows.length === 0}
          emptyText={filtered
            ? <>No checks match these filters. <button type="button" class="link" onClick={() => navigate('/', { replace: true })}>Show all checks</button></>
            : <>No checks yet. A check appears when a <a href="/jobs">job</a> runs its mapping's rules; run a job to see where you stand.</>}>
          {(rows) => <ChecksTable rows={rows} names={names} more={checks} />}
        </Resource>
      </Section>

      <Section title="Framework coverage">
        <p class="muted section-intro">How many of each framework's requirements at least one of your checks cites. Show a framework's requirements to see which of them pass, fail or have no check yet.</p>
        <Resource fetched={frameworks} label="Loading frameworks…" empty={(f) => f.data.length === 0} emptyText="No frameworks are catalogued.">
          {(f) => (
            <div class="framework-list">
              {f.data.map((fw) => <FrameworkCard key={fw.id} framework={fw} counts={posture.data?.frameworks[fw.id]} />)}
            </div>
          )}
        </Resource>
      </Section>
    </Page>
  );
}

function PostureTiles(props: { posture: Posture; onPick: (status: string) => void; current: string }) {
  const c = props.posture.checks;
  const total = CHECK_STATUSES.reduce((n, s) => n + (c[s] ?? 0), 0);
  return (
    <>
      <div class="stats posture-stats">
        {CHECK_STATUSES.map((s) => {
          const value = c[s] ?? 0;
          const tone = STATUS_TONES[s];
          return (
            <button key={s} type="button" class={`tile stat posture-tile${value && tone ? ` stat-${tone}` : ''}${props.current === s ? ' is-current' : ''}`}
              aria-pressed={props.current === s} onClick={() => props.onPick(props.current === s ? '' : s)}>
              <span class="value">{value}</span>
              <span class="label">{STATUS_LABELS[s]}<span class="visually-hidden">: show only these checks</span></span>
            </button>
          );
        })}
      </div>
      <p class="muted as-of">{total} check{total === 1 ? '' : 's'} in all, as of <Time value={props.posture.as_of} />.</p>
    </>
  );
}

function ChecksTable(props: { rows: Check[]; names: Map<string, string> | null; more: { more: (() => void) | null; loadingMore: boolean } }) {
  const rows = [...props.rows].sort((a, b) => (ATTENTION_ORDER[a.status] ?? 9) - (ATTENTION_ORDER[b.status] ?? 9) || a.title.localeCompare(b.title));
  return (
    <>
      <Table caption="Checks, failing and stale first" head={['Status', 'Check', 'Control', 'Job', 'Last evaluated']}>
        {rows.map((check) => (
          <tr key={check.id}>
            <td><Badge value={check.status} /></td>
            <td class="check-title">
              <a href={`/checks/${encodeURIComponent(check.id)}`}>{check.title}</a>
              {check.failing_count ? <span class="muted small"> · {check.failing_count} failing record{check.failing_count === 1 ? '' : 's'}</span> : null}
            </td>
            <td>{check.control_ref}{check.question_match && <span class="muted small block">{check.question_match}</span>}</td>
            <td><Named id={check.job_id} names={props.names} href={`/jobs/${check.job_id}`} /></td>
            <td class="nowrap"><Time value={check.last_result_at} /></td>
          </tr>
        ))}
      </Table>
      <MoreButton more={props.more.more} loading={props.more.loadingMore} />
    </>
  );
}

function FrameworkCard(props: { framework: FrameworkSummary; counts?: StatusCounts }) {
  const fw = props.framework;
  const [open, setOpen] = useState(false);
  const percent = fw.requirements ? Math.round((fw.covered / fw.requirements) * 100) : 0;
  const counts = props.counts;
  const regionId = `framework-${fw.id}`;
  return (
    <article class="framework-card" aria-labelledby={`${regionId}-name`}>
      <div class="framework-head">
        <div>
          <h3 id={`${regionId}-name`}>{fw.name}</h3>
          <p class="muted small">Version {fw.version}</p>
        </div>
        <p class="coverage-figure"><strong>{fw.covered}</strong> of {fw.requirements} requirements covered <span class="muted">({percent}%)</span></p>
      </div>
      <div class="meter" aria-hidden="true"><span style={{ width: `${Math.max(percent, fw.covered ? 1 : 0)}%` }} /></div>
      {counts && (
        <p class="framework-counts small">
          {CHECK_STATUSES.filter((s) => counts[s]).map((s) => <span key={s}><Badge value={s} label={`${counts[s]} ${s}`} /> </span>)}
          {!CHECK_STATUSES.some((s) => counts[s]) && <span class="muted">No check cites this framework yet.</span>}
        </p>
      )}
      <button type="button" class="secondary" aria-expanded={open} aria-controls={regionId} onClick={() => setOpen(!open)}>
        {open ? 'Hide requirements' : 'Show requirements'}<span class="visually-hidden"> of {fw.name}</span>
      </button>
      {open && <div id={regionId}><FrameworkRequirements id={fw.id} name={fw.name} /></div>}
    </article>
  );
}

function FrameworkRequirements(props: { id: string; name: string }) {
  const [which, setWhich] = useState<'covered' | 'missing' | 'all'>('covered');
  const fetched = useApi<Framework>(`/api/v1/frameworks/${encodeURIComponent(props.id)}`, { query: { covered: which === 'all' ? undefined : which === 'covered' } });
  return (
    <div class="requirements">
      <div class="filters">
        <Select label="Requirements" value={which} onChange={(v) => setWhich(v as typeof which)}
          options={[{ value: 'covered', label: 'Covered by a check' }, { value: 'missing', label: 'Without any check' }, { value: 'all', label: 'All requirements' }]} />
      </div>
      <Resource fetched={fetched} label="Loading requirements…" empty={(f) => f.requirement_coverage.length === 0}
        emptyText={which === 'covered' ? 'No check cites a requirement of this framework yet.' : 'Every requirement is cited by at least one check.'}>
        {(f) => (
          <>
            <p class="framework-counts small">
              {(['fail', 'error', 'stale', 'pass', 'info', 'missing'] as const).filter((s) => f.by_status[s]).map((s) => (
                <span key={s}><Badge value={s === 'missing' ? 'disabled' : s} label={`${f.by_status[s]} ${s === 'missing' ? 'without a check' : s}`} /> </span>
              ))}
            </p>
            <Table caption={`Requirements of ${props.name}`} head={['Requirement', 'Status', 'Checks behind it']}>
              {f.requirement_coverage.map((r) => (
                <tr key={r.id}>
                  <td><strong class="mono">{r.id}</strong> {r.title ?? ''}<span class="muted small block">{r.group}</span></td>
                  <td>{r.status === 'missing' ? <Badge value="disabled" label="no check" /> : <Badge value={r.status} />}</td>
                  <td>
                    {r.checks.length === 0 ? <span class="muted">—</span> : (
                      <ul class="plain">
                        {r.checks.map((c) => <li key={c.id}><Badge value={c.status} /> <a href={`/checks/${encodeURIComponent(c.id)}`}>{c.title}</a></li>)}
                      </ul>
                    )}
                    {r.checks.length < Object.values(r.check_counts).reduce((a, b) => a + b, 0) && (
                      <a class="small" href={withQuery('/', { framework: f.id })}>All checks citing {f.id}</a>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </Resource>
    </div>
  );
}

// ---------------------------------------------------------------- /checks/:id

export function CheckPage(props: { id: string }) {
  return <NeedsScope scope="evidence:read" title="Check"><CheckDetail id={props.id} /></NeedsScope>;
}

function CheckDetail(props: { id: string }) {
  const base = `/api/v1/checks/${encodeURIComponent(props.id)}`;
  const check = useApi<Check>(base);
  const history = usePaged<HistoryEntry>(`${base}/history`, { limit: 50 });
  const evidence = useApi<Evidence>(check.data ? `/api/v1/evidence/${encodeURIComponent(check.data.evidence_id)}` : null);
  const names = useNames();
  const c = check.data;
  return (
    <Page title={c ? c.title : 'Check'}
      description={c ? <>Rule <span class="mono">{c.rule_id}</span> of job <Named id={c.job_id} names={names} href={`/jobs/${c.job_id}`} /></> : undefined}
      actions={c && <a class="button secondary" href={`/evidence/${c.evidence_id}`}>View latest evidence</a>}>
      <Resource fetched={check} label="Loading the check…">
        {(data) => (
          <>
            <CheckSummary check={data} names={names} />
            <Section title="Latest result" actions={<a href={`/evidence/${data.evidence_id}`}>Open evidence item<span class="visually-hidden"> {data.evidence_id}</span></a>}>
              <Resource fetched={evidence as Fetched<Evidence>} label="Loading the latest evidence…">
                {(e) => <LatestResult evidence={e} />}
              </Resource>
            </Section>
          </>
        )}
      </Resource>
      {c && (
        <Section title="History">
          <Resource fetched={history} label="Loading the history…" empty={(rows) => rows.length === 0} emptyText="No results recorded yet.">
            {(rows) => (
              <>
                <Table caption="Past results, newest first" head={['Result', 'Observed', 'Change', 'Title', 'Delivery', 'Evidence', 'Run']}>
                  {rows.map((h) => (
                    <tr key={h.evidence_id}>
                      <td><Badge value={h.result} /></td>
                      <td class="nowrap"><Time value={h.observed_at} /></td>
                      <td class="nowrap">{h.transition ? <><Badge value={h.transition.from} /> <span aria-label="to">→</span> <Badge value={h.transition.to} /></> : <span class="muted">—</span>}</td>
                      <td>{h.title}</td>
                      <td><Badge value={h.delivery_status} />{h.delivered_at && <span class="muted small block"><Time value={h.delivered_at} /></span>}</td>
                      <td><a class="mono" href={`/evidence/${h.evidence_id}`}><span class="visually-hidden">Evidence item </span>{h.evidence_id.slice(-8)}</a></td>
                      <td>{h.run_id ? <a class="mono" href={`/runs/${h.run_id}`}><span class="visually-hidden">Run </span>{h.run_id.slice(-8)}</a> : <span class="muted">Pushed</span>}</td>
                    </tr>
                  ))}
                </Table>
                <MoreButton more={history.more} loading={history.loadingMore} />
              </>
            )}
          </Resource>
        </Section>
      )}
    </Page>
  );
}

function CheckSummary(props: { check: Check; names: Map<string, string> | null }) {
  const c = props.check;
  const refs = Object.entries(c.references ?? {});
  return (
    <>
      {c.status === 'stale' && (
        <Notice tone="info">This result is stale: it was observed <Time value={c.last_result_at} /> and was fresh until <Time value={c.fresh_until} />. Run its job again to refresh it.</Notice>
      )}
      <Section title="Details">
        <KeyValues items={[
          ['Status', <Badge value={c.status} />],
          ['Latest result', <Badge value={c.result} />],
          ['Control', c.control_ref],
          ['Question', c.question_match ?? <span class="muted">—</span>],
          ['Failing records', c.failing_count === null ? <span class="muted">—</span> : String(c.failing_count)],
          ['Last evaluated', <Time value={c.last_result_at} />],
          ['With this result since', <Time value={c.changed_at} />],
          ['Fresh until', <Time value={c.fresh_until} />],
          ['Job', <Named id={c.job_id} names={props.names} href={`/jobs/${c.job_id}`} />],
          ['Connection', <Named id={c.connection_id} names={props.names} href={`/connections/${c.connection_id ?? ''}`} />],
        ]} />
        {refs.length > 0 && (
          <div class="references">
            <h3>Framework requirements</h3>
            <ul class="plain ref-list">
              {refs.map(([fw, ids]) => (
                <li key={fw}><span class="muted">{fw}</span> {refList(ids).map((id) => <code key={id} class="chip">{id}</code>)}</li>
              ))}
            </ul>
          </div>
        )}
      </Section>
    </>
  );
}

function LatestResult(props: { evidence: Evidence }) {
  const e = props.evidence;
  const evaluation = (e.payload?._evaluation ?? {}) as Evaluation;
  const assertions = evaluation.assertions ?? [];
  const failing = assertions.filter((a) => a.failing && a.failing.total > 0);
  const { _evaluation: _ignored, ...data } = e.payload ?? {};
  return (
    <>
      <p class="latest-title"><Badge value={e.result} /> {e.title}</p>
      <p class="muted small">From {e.source}, observed <Time value={e.observed_at} />.</p>
      {evaluation.error && <Notice tone="bad"><strong>The rule could not be evaluated:</strong> {evaluation.error}</Notice>}
      {evaluation.empty_selection && <Notice>{evaluation.empty_selection}</Notice>}
      {evaluation.not_met && evaluation.not_met.length > 0 && (
        <div class="not-met">
          <h3>Not met</h3>
          <ul>{evaluation.not_met.map((n) => <li key={n}>{n}</li>)}</ul>
        </div>
      )}
      {assertions.length > 0 && (
        <>
          <h3>Assertions</h3>
          <ul class="plain assertions">
            {assertions.map((a, i) => (
              <li key={i}>
                <Badge value={a.passed ? 'pass' : 'fail'} label={a.passed ? 'met' : 'not met'} /> {a.description ?? a.kind}
                {a.actual !== undefined && <span class="muted small"> (found {String(a.actual)}{a.op ? `, needs ${OPS[a.op] ?? a.op} ${String(a.expected)}` : ''})</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {failing.map((a, i) => (
        <div key={i} class="failing-records">
          <h3>Failing records{a.description ? `: ${a.description}` : ''} ({a.failing!.total})</h3>
          <Table caption={`Records failing “${a.description ?? a.kind}”`} head={['Record', 'ID']}>
            {a.failing!.items.map((r) => (
              <tr key={JSON.stringify(r.id)}>
                <td>{r.label === undefined ? <span class="muted">—</span> : String(r.label)}</td>
                <td class="mono">{typeof r.id === 'string' ? r.id : JSON.stringify(r.id)}</td>
              </tr>
            ))}
          </Table>
          {a.failing!.truncated && <p class="muted small">Showing {a.failing!.items.length} of {a.failing!.total}; the evidence item lists what the rule kept.</p>}
        </div>
      ))}
      {evaluation.counts && (
        <p class="muted small">Records: {Object.entries(evaluation.counts).map(([k, v]) => `${k} ${v}`).join(' · ')}</p>
      )}
      {Object.keys(data).length > 0 ? (
        <details class="payload">
          <summary>Payload</summary>
          <Json value={data} label="Payload as JSON" />
        </details>
      ) : !e.payload ? <Empty>No payload.</Empty> : null}
    </>
  );
}
