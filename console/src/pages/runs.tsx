import { useEffect, useState } from 'preact/hooks';
import { api, listAll, withQuery } from '../api.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { IfAllowed, NeedsScope } from '../app.js';
import {
  Badge, duration, Empty, Json, KeyValues, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Select, Table, Time, useAction, useApi, useLiveList, usePaged,
} from '../ui.js';
import './runs.css';

/** Runs: the list (live while any run is going), one run with its timeline and items, one evidence item. */

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
const isActive = (status: string) => status === 'queued' || status === 'running';

interface RunCounts { collected: number; evidence: number; delivered: number; rejected: number; ambiguous: number; failed: number }
interface RunStep { name: string; status: string; started_at: string; ended_at: string | null; snapshot_ids: string[]; detail: string | null }
interface RunItem {
  id: string; rule_id: string | null; control_ref: string; question_match: string | null; result: string; status: string;
  destination_evidence_ids: string[] | null; candidates: unknown[] | null; error: string | null; attempts: number;
}
interface Run {
  id: string; job_id: string | null; workflow_id: string; steps: RunStep[]; status: string; trigger: string;
  mapping_id: string | null; mapping_version: number | null; counts: RunCounts; items: RunItem[]; error: string | null;
  created_at: string; started_at: string | null; ended_at: string | null;
}
interface Evidence extends RunItem {
  run_id: string | null; job_id: string | null; question_id: string | null; title: string; source: string; payload_sha256: string;
  collected_at: string; observed_at: string | null; destination_id: string | null; target: Record<string, unknown> | null;
  delivered_at: string | null; created_at: string; payload?: Record<string, unknown>;
}

/** The run page shows the API's first 500 items; beyond that it lists them from the ledger. */
const MAX_ITEMS_IN_RUN = 500;

/** `run_01m8x9zr6dk8myh3xex1avhpzq` → `x1avhpzq`: enough to tell runs apart on a page. */
export function shortId(id: string): string {
  const rest = id.includes('_') ? id.slice(id.indexOf('_') + 1) : id;
  return rest.slice(-8);
}


/** Job names by id (read once; a key without config:read sees job ids instead). */
export function useJobNames(): Map<string, string> | null {
  const { can } = useSession();
  const allowed = can('config:read');
  const [names, setNames] = useState<Map<string, string> | null>(null);
  useEffect(() => {
    if (!allowed) return;
    listAll<{ id: string; name: string }>('/api/v1/jobs').then((jobs) => setNames(new Map(jobs.map((j) => [j.id, j.name]))), () => setNames(null));
  }, [allowed]);
  return names;
}

function JobLink(props: { id: string | null; names: Map<string, string> | null }) {
  if (!props.id) return <span class="muted">No job</span>;
  const name = props.names?.get(props.id);
  return <a href={`/jobs/${props.id}`}>{name ?? <span class="mono">{props.id}</span>}</a>;
}

function RunStatus(props: { status: string }) {
  return <span class="run-status">{isActive(props.status) && <span class="pulse" aria-hidden="true" />}<Badge value={props.status} /></span>;
}

/** A count cell: zero is muted so the numbers that matter stand out. */
function Count(props: { value: number; tone?: 'good' | 'bad' | 'warn' }) {
  return <td class={`num${props.value && props.tone ? ` count-${props.tone}` : ''}${props.value ? '' : ' muted'}`}>{props.value}</td>;
}

// ---------------------------------------------------------------- /runs

export function RunsPage() {
  return <NeedsScope scope="runs:read" title="Runs"><RunsList /></NeedsScope>;
}

function RunsList() {
  const location = useLocation();
  const status = location.query.get('status') ?? '';
  const jobId = location.query.get('job_id') ?? '';
  const names = useJobNames();
  const runs = useLiveList<Run>('/api/v1/runs', { status, job_id: jobId }, { pollMs: 2000, pollWhile: (rows) => rows.some((r) => isActive(r.status)) });
  const setFilter = (next: { status?: string; job_id?: string }) => navigate(withQuery('/runs', { status, job_id: jobId, ...next }), { replace: true });
  const filtered = Boolean(status || jobId);
  const live = runs.data?.some((r) => isActive(r.status));

  const jobOptions = [{ value: '', label: 'All jobs' }, ...[...(names ?? new Map<string, string>()).entries()].sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, label }))];
  if (jobId && !names?.has(jobId)) jobOptions.push({ value: jobId, label: jobId });

  return (
    <Page title="Runs" description="Every time a job collected, evaluated and delivered evidence, newest first. Runs in progress update here as they go.">
      <div class="filters" role="search" aria-label="Filter runs">
        <Select label="Status" value={status} onChange={(v) => setFilter({ status: v })}
          options={[{ value: '', label: 'All statuses' }, ...RUN_STATUSES.map((s) => ({ value: s, label: s[0]!.toUpperCase() + s.slice(1) }))]} />
        {(names || jobId) && <Select label="Job" value={jobId} onChange={(v) => setFilter({ job_id: v })} options={jobOptions} />}
        {filtered && <button type="button" class="secondary" onClick={() => navigate('/runs', { replace: true })}>Clear filters</button>}
        {live && <p class="live-note muted" role="status"><span class="pulse" aria-hidden="true" /> Updating live</p>}
      </div>
      <Resource fetched={runs} label="Loading runs…" empty={(rows) => rows.length === 0}
        emptyText={filtered
          ? <>No runs match these filters. <button type="button" class="link" onClick={() => navigate('/runs', { replace: true })}>Show all runs</button></>
          : <>No runs yet. Open a <a href="/jobs">job</a> and choose <strong>Run now</strong>, or give it a schedule.</>}>
        {(rows) => (
          <>
            <Table caption="Runs, newest first" head={['Run', 'Status', 'Job', 'Trigger', 'Started', 'Duration', 'Evidence', 'Delivered', 'Rejected', 'Ambiguous', 'Failed']}>
              {rows.map((run) => (
                <tr key={run.id}>
                  <td><a class="mono" href={`/runs/${run.id}`} aria-label={`Run ${shortId(run.id)}`}>{shortId(run.id)}</a></td>
                  <td><RunStatus status={run.status} /></td>
                  <td><JobLink id={run.job_id} names={names} /></td>
                  <td>{run.trigger}</td>
                  <td class="nowrap">{run.started_at ? <Time value={run.started_at} /> : <span class="muted">Queued <Time value={run.created_at} /></span>}</td>
                  <td class="nowrap">{duration(run.started_at, run.ended_at)}</td>
                  <Count value={run.counts.evidence} />
                  <Count value={run.counts.delivered} tone="good" />
                  <Count value={run.counts.rejected} tone="bad" />
                  <Count value={run.counts.ambiguous} tone="warn" />
                  <Count value={run.counts.failed} tone="bad" />
                </tr>
              ))}
            </Table>
            <MoreButton more={runs.more} loading={runs.loadingMore} />
          </>
        )}
      </Resource>
    </Page>
  );
}

// ---------------------------------------------------------------- /runs/:id

export function RunPage(props: { id: string }) {
  return <NeedsScope scope="runs:read" title={`Run ${shortId(props.id)}`}><RunDetail id={props.id} /></NeedsScope>;
}

function RunDetail(props: { id: string }) {
  const { session } = useSession();
  const names = useJobNames();
  const run = useApi<Run>(`/api/v1/runs/${encodeURIComponent(props.id)}`, { pollMs: 1500, pollWhile: (r) => isActive(r.status) });
  const [cancelled, setCancelled] = useState(false);
  const cancel = useAction(async () => {
    await api(`/api/v1/runs/${encodeURIComponent(props.id)}/cancel`, { method: 'POST' });
    setCancelled(true);
    run.reload();
  });
  const title = `Run ${shortId(props.id)}`;
  const r = run.data;
  const temporalUrl = r && session.temporal_ui_url
    ? `${session.temporal_ui_url.replace(/\/$/, '')}/namespaces/${encodeURIComponent(session.temporal_namespace)}/workflows/${encodeURIComponent(r.workflow_id)}`
    : null;

  return (
    <Page title={title}
      description={r ? <>{r.job_id ? <>Job <JobLink id={r.job_id} names={names} /></> : 'A run without a job'} · triggered by {r.trigger}</> : undefined}
      actions={r && (
        <>
          {temporalUrl && <a class="button secondary" href={temporalUrl} target="_blank" rel="noopener noreferrer">Open in Temporal UI<span class="visually-hidden"> (opens in a new tab)</span></a>}
          {isActive(r.status) && !cancelled && (
            <IfAllowed scope="runs:write">
              <button type="button" class="danger" onClick={() => { void cancel.run(); }} disabled={cancel.busy}>{cancel.busy ? 'Cancelling…' : 'Cancel'}</button>
            </IfAllowed>
          )}
        </>
      )}>
      {cancel.error ? <ProblemMessage error={cancel.error} action="cancel the run" /> : null}
      {cancelled && r && isActive(r.status) && <Notice>Cancellation requested: the run stops at its next step and ends as cancelled.</Notice>}
      <Resource fetched={run} label="Loading the run…">
        {(data) => <RunBody run={data} names={names} />}
      </Resource>
    </Page>
  );
}

function RunBody(props: { run: Run; names: Map<string, string> | null }) {
  const { run } = props;
  const c = run.counts;
  return (
    <>
      {isActive(run.status) && <p class="live-note muted" role="status"><span class="pulse" aria-hidden="true" /> This run is {run.status}; the page updates as it goes.</p>}
      {run.error && <Notice tone="bad"><strong>The run failed:</strong> {run.error}</Notice>}
      <div class="stats">
        {([['Collected', c.collected, ''], ['Evidence', c.evidence, ''], ['Delivered', c.delivered, 'good'], ['Rejected', c.rejected, 'bad'], ['Ambiguous', c.ambiguous, 'warn'], ['Failed', c.failed, 'bad']] as const).map(([label, value, tone]) => (
          <div key={label} class={`tile stat${value && tone ? ` stat-${tone}` : ''}`}><span class="value">{value}</span><span class="label">{label}</span></div>
        ))}
      </div>
      <Section title="Details">
        <KeyValues items={[
          ['Status', <RunStatus status={run.status} />],
          ['Job', <JobLink id={run.job_id} names={props.names} />],
          ['Trigger', run.trigger],
          ['Queued', <Time value={run.created_at} seconds />],
          ['Started', <Time value={run.started_at} seconds empty="Not yet" />],
          ['Ended', <Time value={run.ended_at} seconds empty={isActive(run.status) ? 'Still going' : '—'} />],
          ['Duration', duration(run.started_at, run.ended_at)],
          ['Mapping', run.mapping_id ? <a href={`/mappings/${run.mapping_id}`}>{run.mapping_version ? `version ${run.mapping_version}` : 'latest version'}</a> : <span class="muted">—</span>],
          ['Workflow id', <span class="mono">{run.workflow_id}</span>],
        ]} />
      </Section>
      <Section title="Timeline">
        {run.steps.length === 0
          ? <Empty>{run.status === 'queued' ? 'The run is queued: its steps appear here when it starts.' : 'This run recorded no steps.'}</Empty>
          : (
            <ol class="timeline">
              {run.steps.map((step, i) => (
                <li key={`${step.name}-${i}`} class={`step-${step.status}`}>
                  <div class="timeline-head">
                    <strong class="step-name">{step.name}</strong>
                    <Badge value={step.status} />
                    <span class="muted step-time"><Time value={step.started_at} seconds /> · {duration(step.started_at, step.ended_at)}</span>
                  </div>
                  {step.detail && <p class="step-detail">{step.detail}</p>}
                  {step.snapshot_ids.length > 0 && (
                    <p class="step-snapshots muted">Snapshot{step.snapshot_ids.length > 1 ? 's' : ''}: {step.snapshot_ids.map((s) => <code key={s}>{s}</code>)}</p>
                  )}
                </li>
              ))}
            </ol>
          )}
      </Section>
      <Section title="Evidence items">
        {run.counts.evidence > run.items.length && run.items.length >= MAX_ITEMS_IN_RUN
          ? <LedgerItems runId={run.id} />
          : <ItemsTable items={run.items} emptyText={run.status === 'queued' || run.status === 'running' ? 'No evidence yet: items appear once the run has evaluated its data.' : 'This run produced no evidence items.'} />}
      </Section>
    </>
  );
}

/** Why an item did not land: the destination's error, or the questions it could not choose between. */
function reasonOf(item: RunItem) {
  if (item.status === 'delivered' || item.status === 'pending') return item.error ? <span>{item.error}</span> : <span class="muted">—</span>;
  const candidates = item.candidates?.length ? <span class="muted"> ({item.candidates.length} candidate question{item.candidates.length > 1 ? 's' : ''})</span> : null;
  return <span class="reason">{item.error ?? 'No reason given.'}{candidates}</span>;
}

function ItemsTable(props: { items: RunItem[]; emptyText: string }) {
  if (props.items.length === 0) return <Empty>{props.emptyText}</Empty>;
  return (
    <Table caption="Evidence items of this run" head={['Result', 'Control', 'Question', 'Delivery', 'In the destination', 'Reason', '']}>
      {props.items.map((item) => (
        <tr key={item.id}>
          <td><Badge value={item.result} /></td>
          <td>{item.control_ref}</td>
          <td>{item.question_match ?? <span class="muted">—</span>}</td>
          <td><Badge value={item.status} />{item.attempts > 1 && <span class="muted small"> {item.attempts} attempts</span>}</td>
          <td>{item.destination_evidence_ids?.length ? item.destination_evidence_ids.map((d) => <code key={d} class="chip">{d}</code>) : <span class="muted">—</span>}</td>
          <td>{reasonOf(item)}</td>
          <td><a href={`/evidence/${item.id}`}>View<span class="visually-hidden"> evidence item {item.control_ref}{item.question_match ? `: ${item.question_match}` : ''}</span></a></td>
        </tr>
      ))}
    </Table>
  );
}

/** More than 500 items: the ledger lists them all (needs evidence:read). */
function LedgerItems(props: { runId: string }) {
  const { can } = useSession();
  const items = usePaged<RunItem>(can('evidence:read') ? '/api/v1/evidence' : null, { run_id: props.runId, limit: 200 });
  if (!can('evidence:read')) return <Notice>This run has more than {MAX_ITEMS_IN_RUN} items; listing them all needs the evidence:read scope.</Notice>;
  return (
    <Resource fetched={items} label="Loading the run's evidence…" empty={(rows) => rows.length === 0} emptyText="This run produced no evidence items.">
      {(rows) => <><ItemsTable items={rows} emptyText="" /><MoreButton more={items.more} loading={items.loadingMore} /></>}
    </Resource>
  );
}

// ---------------------------------------------------------------- /evidence/:id

export function EvidencePage(props: { id: string }) {
  return <NeedsScope scope="evidence:read" title="Evidence"><EvidenceDetail id={props.id} /></NeedsScope>;
}

function EvidenceDetail(props: { id: string }) {
  const evidence = useApi<Evidence>(`/api/v1/evidence/${encodeURIComponent(props.id)}`, { pollMs: 2000, pollWhile: (e) => e.status === 'pending' });
  const names = useJobNames();
  const e = evidence.data;
  return (
    <Page title={e ? e.title : 'Evidence'} description={e ? <>Evidence item <span class="mono">{e.id}</span> from {e.source}</> : undefined}
      actions={e && (
        <>
          {e.run_id && <a class="button secondary" href={`/runs/${e.run_id}`}>View run</a>}
          {e.job_id && <a class="button secondary" href={`/jobs/${e.job_id}`}>View job</a>}
        </>
      )}>
      <Resource fetched={evidence} label="Loading the evidence item…">
        {(item) => (
          <>
            {item.error && <Notice tone={item.status === 'delivered' ? 'info' : 'bad'}><strong>{item.status === 'ambiguous' ? 'Not attached:' : 'Error:'}</strong> {item.error}</Notice>}
            <Section title="Details">
              <KeyValues items={[
                ['Result', <Badge value={item.result} />],
                ['Delivery', <Badge value={item.status} />],
                ['Control', item.control_ref],
                ['Question', item.question_match ?? item.question_id ?? <span class="muted">—</span>],
                ['In the destination', item.destination_evidence_ids?.length ? item.destination_evidence_ids.map((d) => <code key={d} class="chip">{d}</code>) : <span class="muted">—</span>],
                ['Destination', item.destination_id ? <a href={`/destinations/${item.destination_id}`} class="mono">{item.destination_id}</a> : <span class="muted">—</span>],
                ['Attempts', String(item.attempts)],
                ['Collected', <Time value={item.collected_at} seconds />],
                ['Observed', <Time value={item.observed_at} seconds />],
                ['Delivered', <Time value={item.delivered_at} seconds empty={item.status === 'pending' ? 'Not yet' : '—'} />],
                ['Run', item.run_id ? <a href={`/runs/${item.run_id}`} class="mono">{shortId(item.run_id)}</a> : <span class="muted">Pushed over the API</span>],
                ['Job', <JobLink id={item.job_id} names={names} />],
                ['Rule', item.rule_id ? <span class="mono">{item.rule_id}</span> : <span class="muted">—</span>],
                ['Source', item.source],
              ]} />
              <p class="sha"><span class="muted">payload_sha256</span> <code>{item.payload_sha256}</code></p>
            </Section>
            {item.candidates && item.candidates.length > 0 && (
              <Section title="Candidate questions">
                <p class="muted">The destination matched several questions and attached the item to none of them.</p>
                <Json value={item.candidates} label="Candidate questions as JSON" />
              </Section>
            )}
            {item.target && <Section title="Target"><Json value={item.target} label="Target as JSON" /></Section>}
            <Section title="Payload">
              {item.payload ? <Json value={item.payload} label="Payload as JSON" /> : <Empty>No payload.</Empty>}
            </Section>
          </>
        )}
      </Resource>
    </Page>
  );
}
