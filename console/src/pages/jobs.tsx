import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll } from '../api.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { IfAllowed, NeedsScope } from '../app.js';
import { compact, SchemaFields, type FormValues, type Schema } from '../schema-form.js';
import {
  Badge, Checkbox, duration, Empty, Field, Json, KeyValues, Loading, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Select, Table,
  TextInput, Time, useAction, useApi, usePaged, type FormEvent,
} from '../ui.js';
import './jobs.css';

/**
 * Jobs: a connection's datasets, evaluated by a mapping, delivered to a destination's target,
 * by hand or on a schedule. The list, the create/edit form, and one job with its next runs.
 */

interface Schedule { cron: string; timezone: string }
interface Job {
  id: string; name: string; connection_id: string; datasets: string[]; mapping_id: string; mapping_version: number | null;
  destination_id: string; target: Record<string, unknown>; schedule: Schedule | null; enabled: boolean; fresh_for: string | null;
  next_run_at: string | null; next_runs: string[]; created_at: string; updated_at: string;
}
interface Named { id: string; name: string; type?: string; config?: Record<string, unknown> }
interface Connector { type: string; name: string; datasets: { name: string; description: string }[] }
interface DestinationType { type: string; name: string; target_schema?: Schema }
interface Pack { id: string; name: string; description: string }
interface MappingVersion { version: number; created_at: string; message: string | null; pack: string | null }
interface Run {
  id: string; status: string; trigger: string; created_at: string; started_at: string | null; ended_at: string | null;
  counts: { evidence: number; delivered: number; rejected: number; failed: number };
}
interface Check { id: string; title: string; status: string; control_ref: string; last_result_at: string }

const shortId = (id: string) => (id.includes('_') ? id.slice(id.indexOf('_') + 1) : id).slice(-8);
const browserZone = (() => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch { return 'UTC'; } })();
const CRON_EXAMPLES = ['0 2 * * *', '0 6 * * 1', '*/30 * * * *', '@daily', '@hourly', '@every 6h'];
const ZONE_EXAMPLES = [...new Set(['UTC', browserZone, 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo'])];

/** Datasets of a connection: its type's, plus those its settings declare (http, push). */
function datasetsOf(connector: Connector | undefined, connection: Named | undefined): { name: string; description: string }[] {
  const own = connector?.datasets ?? [];
  const declared = Array.isArray(connection?.config?.datasets)
    ? (connection!.config!.datasets as { name?: unknown; description?: unknown }[]).filter((d) => typeof d?.name === 'string')
      .map((d) => ({ name: `${connection!.type}.${String(d.name)}`, description: typeof d.description === 'string' ? d.description : 'Declared in the connection’s settings.' }))
    : [];
  return [...own, ...declared.filter((d) => !own.some((o) => o.name === d.name))];
}

/** Every item of a listing, for pickers and for names by id (null until read). */
function useAll<T>(path: string | null): { rows: T[] | null; error: unknown; reload: () => void } {
  const [rows, setRows] = useState<T[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) return;
    let live = true;
    listAll<T>(path).then((r) => { if (live) { setRows(r); setError(null); } }, (e) => { if (live) setError(e); });
    return () => { live = false; };
  }, [path, tick]);
  return { rows, error, reload: () => setTick((n) => n + 1) };
}

function nameOf(rows: Named[] | null, id: string): string | null {
  return rows?.find((r) => r.id === id)?.name ?? null;
}

function ScheduleText(props: { schedule: Schedule | null }) {
  if (!props.schedule) return <span class="muted">Manual only</span>;
  return <><code>{props.schedule.cron}</code> <span class="muted small">{props.schedule.timezone}</span></>;
}

function JobState(props: { enabled: boolean }) {
  return props.enabled ? <Badge value="enabled" /> : <Badge value="paused" />;
}

// ---------------------------------------------------------------- /jobs

export function JobsPage() {
  return <NeedsScope scope="config:read" title="Jobs"><JobsList /></NeedsScope>;
}

function JobsList() {
  const { can } = useSession();
  const jobs = usePaged<Job>('/api/v1/jobs', { limit: 100 });
  const connections = useAll<Named>('/api/v1/connections');
  const destinations = useAll<Named>('/api/v1/destinations');
  const newJob = <a class="button" href="/jobs/new">New job</a>;
  return (
    <Page title="Jobs" description="A job collects datasets from a connection, evaluates them with a mapping and delivers the evidence to a destination, by hand or on a schedule."
      actions={<IfAllowed scope="config:write">{newJob}</IfAllowed>}>
      <Resource fetched={jobs} label="Loading jobs…" empty={(rows) => rows.length === 0}
        emptyText={<><p class="empty-text">No jobs yet. A job ties a <a href="/connections">connection</a> to a <a href="/mappings">mapping</a> and a destination.</p>{can('config:write') && newJob}</>}>
        {(rows) => (
          <>
            <Table caption="Jobs" head={['Name', 'Connection', 'Destination', 'Schedule', 'State', 'Next run']}>
              {rows.map((job) => (
                <tr key={job.id}>
                  <td><a href={`/jobs/${job.id}`}>{job.name}</a></td>
                  <td><a href={`/connections/${job.connection_id}`}>{nameOf(connections.rows, job.connection_id) ?? <span class="mono">{job.connection_id}</span>}</a></td>
                  <td><a href={`/destinations/${job.destination_id}`}>{nameOf(destinations.rows, job.destination_id) ?? <span class="mono">{job.destination_id}</span>}</a></td>
                  <td><ScheduleText schedule={job.schedule} /></td>
                  <td><JobState enabled={job.enabled} /></td>
                  <td class="nowrap"><Time value={job.next_run_at} empty={job.schedule ? (job.enabled ? '—' : 'Paused') : 'When triggered'} /></td>
                </tr>
              ))}
            </Table>
            <MoreButton more={jobs.more} loading={jobs.loadingMore} />
          </>
        )}
      </Resource>
    </Page>
  );
}

// ---------------------------------------------------------------- /jobs/new, /jobs/:id/edit

export function JobFormPage(props: { id?: string }) {
  const title = props.id ? 'Edit job' : 'New job';
  return <NeedsScope scope="config:write" title={title}><JobFormLoader id={props.id} /></NeedsScope>;
}

function JobFormLoader(props: { id?: string }) {
  const job = useApi<Job>(props.id ? `/api/v1/jobs/${encodeURIComponent(props.id)}` : null);
  if (!props.id) return <JobForm />;
  return (
    <Page title={job.data ? `Edit ${job.data.name}` : 'Edit job'} actions={<a class="button secondary" href={`/jobs/${props.id}`}>Back to the job</a>}>
      <Resource fetched={job} label="Loading the job…">{(j) => <JobForm job={j} embedded />}</Resource>
    </Page>
  );
}

interface FormState {
  name: string; connection_id: string; datasets: string[]; mapping_id: string; mapping_version: string;
  destination_id: string; target: FormValues; targetText: string; cron: string; timezone: string; fresh_for: string; enabled: boolean;
}

function JobForm(props: { job?: Job; embedded?: boolean }) {
  const job = props.job;
  const location = useLocation();
  const [f, setF] = useState<FormState>(() => ({
    name: job?.name ?? '',
    connection_id: job?.connection_id ?? location.query.get('connection_id') ?? '',
    datasets: job?.datasets ?? [],
    mapping_id: job?.mapping_id ?? location.query.get('mapping_id') ?? '',
    mapping_version: job?.mapping_version ? String(job.mapping_version) : '',
    destination_id: job?.destination_id ?? location.query.get('destination_id') ?? '',
    target: job?.target ?? {},
    targetText: job ? JSON.stringify(job.target, null, 2) : '{}',
    cron: job?.schedule?.cron ?? '',
    timezone: job?.schedule?.timezone ?? '',
    fresh_for: job?.fresh_for ?? '',
    enabled: job?.enabled ?? true,
  }));
  const set = (patch: Partial<FormState>) => setF((s) => ({ ...s, ...patch }));
  const connections = useAll<Named>('/api/v1/connections');
  const destinations = useAll<Named>('/api/v1/destinations');
  const mappings = useAll<Named>('/api/v1/mappings');
  const connectors = useApi<{ data: Connector[] }>('/api/v1/connectors');
  const destinationTypes = useApi<{ data: DestinationType[] }>('/api/v1/destination-types');
  const versions = useApi<{ data: MappingVersion[] }>(f.mapping_id ? `/api/v1/mappings/${encodeURIComponent(f.mapping_id)}/versions` : null);

  const connection = connections.rows?.find((c) => c.id === f.connection_id);
  const connector = connectors.data?.data.find((c) => c.type === connection?.type);
  const datasets = datasetsOf(connector, connection);
  const destination = destinations.rows?.find((d) => d.id === f.destination_id);
  const targetSchema = destinationTypes.data?.data.find((t) => t.type === destination?.type)?.target_schema;
  const targetHasFields = Object.keys(targetSchema?.properties ?? {}).length > 0;


  const [jsonError, setJsonError] = useState<string | null>(null);
  const [missing, setMissing] = useState<{ pointer: string; message: string }[]>([]);
  const save = useAction(async () => {
    // What is plainly missing is said at once, field by field, before asking the hub.
    const absent = [
      ...(f.name.trim() ? [] : [{ pointer: '/name', message: 'Enter a name.' }]),
      ...(f.connection_id ? [] : [{ pointer: '/connection_id', message: 'Choose a connection.' }]),
      ...(!f.connection_id || f.datasets.length ? [] : [{ pointer: '/datasets', message: 'Choose at least one dataset.' }]),
      ...(f.mapping_id ? [] : [{ pointer: '/mapping_id', message: 'Choose a mapping, or create one from a pack.' }]),
      ...(f.destination_id ? [] : [{ pointer: '/destination_id', message: 'Choose a destination.' }]),
    ];
    setMissing(absent);
    if (absent.length) return;
    let target: unknown = compact(f.target);
    if (!targetHasFields) {
      try { target = JSON.parse(f.targetText || '{}'); } catch { setJsonError('Not valid JSON.'); throw new ApiError({ status: 400, title: 'The target is not valid JSON.', errors: [{ pointer: '/target', message: 'is not valid JSON' }] }); }
    }
    setJsonError(null);
    const body = {
      name: f.name,
      connection_id: f.connection_id,
      datasets: f.datasets,
      mapping_id: f.mapping_id,
      mapping_version: f.mapping_version ? Number(f.mapping_version) : null,
      destination_id: f.destination_id,
      target,
      schedule: f.cron.trim() ? { cron: f.cron.trim(), timezone: f.timezone.trim() || 'UTC' } : null,
      enabled: f.enabled,
      fresh_for: f.fresh_for.trim() || null,
    };
    const saved = job
      ? await api<Job>(`/api/v1/jobs/${encodeURIComponent(job.id)}`, { method: 'PATCH', body })
      : await api<Job>('/api/v1/jobs', { method: 'POST', body });
    navigate(`/jobs/${saved.id}`);
  });
  const errors = [...missing, ...(save.error instanceof ApiError ? save.error.problem.errors ?? [] : [])];
  const err = (pointer: string, prefix = false) => errors.filter((e) => e.pointer === pointer || (prefix && e.pointer.startsWith(`${pointer}/`))).map((e) => e.message).join('; ') || undefined;
  const onSubmit = (e: FormEvent) => { e.preventDefault(); void save.run(); };

  const placeholder = (rows: Named[] | null, noun: string) => (rows === null ? `Loading ${noun}s…` : rows.length === 0 ? `No ${noun}s yet` : `Choose a ${noun}…`);
  const options = (rows: Named[] | null, noun: string, current: string) => {
    const twice = (r: Named) => (rows ?? []).filter((x) => x.name === r.name).length > 1;
    const list = [{ value: '', label: placeholder(rows, noun) }, ...(rows ?? []).map((r) => ({ value: r.id, label: twice(r) ? `${r.name} (${r.type ?? shortId(r.id)}, ${shortId(r.id)})` : r.name }))];
    if (current && rows && !rows.some((r) => r.id === current)) list.push({ value: current, label: `${current} (not found)` });
    return list;
  };

  const form = (
    <form class="stack job-form" onSubmit={onSubmit} noValidate>
      <TextInput label="Name" value={f.name} onInput={(v) => set({ name: v })} required error={err('/name')} hint="e.g. “Okta → AUDIGYD, weekly”." />

      <fieldset class="group">
        <legend>Source</legend>
        <Select label="Connection" value={f.connection_id} required error={err('/connection_id')}
          // Back to the job's own connection: its datasets again; another one: choose anew.
          onChange={(v) => set({ connection_id: v, datasets: job && v === job.connection_id ? job.datasets : [] })}
          options={options(connections.rows, 'connection', f.connection_id)}
          hint={connections.rows?.length === 0 ? <>Add a <a href="/connections/new">connection</a> first.</> : undefined} />
        {f.connection_id && (
          <fieldset class={`field${err('/datasets', true) ? ' has-error' : ''}`}>
            <legend>Datasets <span class="required" aria-hidden="true">*</span></legend>
            {!connectors.data && !connectors.error ? <Loading label="Loading datasets…" /> : datasets.length === 0 ? <p class="muted">This connection declares no datasets.</p> : (
              <div class="dataset-choices">
                {datasets.map((d) => (
                  <Checkbox key={d.name} label={d.name} hint={d.description} checked={f.datasets.includes(d.name)}
                    onChange={(on) => set({ datasets: on ? [...f.datasets, d.name] : f.datasets.filter((x) => x !== d.name) })} />
                ))}
              </div>
            )}
            {err('/datasets', true) && <p class="field-error">{err('/datasets', true)}</p>}
          </fieldset>
        )}
      </fieldset>

      <fieldset class="group">
        <legend>Mapping</legend>
        <Select label="Mapping" value={f.mapping_id} required error={err('/mapping_id')}
          onChange={(v) => set({ mapping_id: v, mapping_version: '' })}
          options={options(mappings.rows, 'mapping', f.mapping_id)}
          hint="The rules that turn the datasets into evidence, each citing a control." />
        <PackStarter suggested={connection?.type} onCreated={(m) => { mappings.reload(); set({ mapping_id: m.id, mapping_version: '' }); }} />
        {f.mapping_id && (
          <Select label="Mapping version" value={f.mapping_version} error={err('/mapping_version')} onChange={(v) => set({ mapping_version: v })}
            options={[{ value: '', label: 'The latest version at each run' }, ...(versions.data?.data ?? []).map((v) => ({ value: String(v.version), label: `Version ${v.version}${v.message ? ` — ${v.message}` : ''}` })),
              ...(f.mapping_version && !versions.data?.data.some((v) => String(v.version) === f.mapping_version) ? [{ value: f.mapping_version, label: `Version ${f.mapping_version}` }] : [])]}
            hint="Pin a version so that edits to the mapping reach this job only when you choose." />
        )}
      </fieldset>

      <fieldset class="group">
        <legend>Destination</legend>
        <Select label="Destination" value={f.destination_id} required error={err('/destination_id')} onChange={(v) => set({ destination_id: v })}
          options={options(destinations.rows, 'destination', f.destination_id)}
          hint={destinations.rows?.length === 0 ? <>Add a <a href="/destinations/new">destination</a> first.</> : undefined} />
        {f.destination_id && (targetHasFields ? (
          <fieldset class="field target-fields">
            <legend>Target</legend>
            <p class="hint">Where in the destination the evidence goes{destination?.type === 'audigyd' ? ': the AUDIGYD assessment whose questions it answers' : ''}.</p>
            <SchemaFields schema={targetSchema} values={f.target} onChange={(v) => set({ target: v })} pointer="/target" errors={errors} />
            {err('/target') && <p class="field-error">{err('/target')}</p>}
          </fieldset>
        ) : destination && destinationTypes.data ? (
          <Field label="Target" hint="Where in the destination the evidence goes, as JSON." error={jsonError ?? err('/target', true)}>
            {(id, describedBy) => (
              <textarea id={id} class="mono" rows={4} value={f.targetText} aria-describedby={describedBy} aria-invalid={jsonError || err('/target', true) ? 'true' : undefined}
                onInput={(e) => set({ targetText: (e.currentTarget as HTMLTextAreaElement).value })} />
            )}
          </Field>
        ) : null)}
      </fieldset>

      <fieldset class="group">
        <legend>Schedule</legend>
        <p class="hint">Leave the cron empty for a job that runs only when triggered (Run now, or the API).</p>
        <TextInput label="Cron" value={f.cron} onInput={(v) => set({ cron: v })} error={err('/schedule/cron') ?? err('/schedule')} placeholder="0 2 * * *"
          hint={<>Five fields: minute hour day-of-month month day-of-week. Examples: {CRON_EXAMPLES.map((x) => <code key={x} class="chip">{x}</code>)}</>} />
        <ZoneInput value={f.timezone} onInput={(v) => set({ timezone: v })} error={err('/schedule/timezone')} />
        <TextInput label="Results stay fresh for" value={f.fresh_for} onInput={(v) => set({ fresh_for: v })} error={err('/fresh_for')} placeholder="36h"
          hint="How long a result counts before its checks read stale, e.g. 36h or 8d. Empty: twice the schedule’s interval, or 7 days without a schedule." />
        <Checkbox label="Enabled" checked={f.enabled} onChange={(v) => set({ enabled: v })} hint="A paused job’s schedule does not fire; it can still be run by hand." />
      </fieldset>

      {missing.length > 0 && <p class="field-error" role="alert">Some fields need attention: {missing.map((m) => m.message).join(' ')}</p>}
      {save.error ? <ProblemMessage error={save.error} action={job ? 'save the job' : 'create the job'} /> : null}
      <div class="actions">
        <button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : job ? 'Save changes' : 'Create job'}</button>
        <a class="button secondary" href={job ? `/jobs/${job.id}` : '/jobs'}>{job ? 'Back to the job' : 'Back to jobs'}</a>
      </div>
    </form>
  );
  if (props.embedded) return <Section title="Job">{form}</Section>;
  return (
    <Page title="New job" description="Choose what to collect, how to evaluate it and where to deliver the evidence." actions={<a class="button secondary" href="/jobs">Back to jobs</a>}>
      <Section title="Job">{form}</Section>
    </Page>
  );
}

function ZoneInput(props: { value: string; onInput: (v: string) => void; error?: string }) {
  return (
    <TextInput label="Time zone" value={props.value} onInput={props.onInput} error={props.error} placeholder="UTC"
      hint={<>The IANA time zone the cron is read in; empty means UTC. Yours is <code>{browserZone}</code>. Examples: {ZONE_EXAMPLES.map((z) => <code key={z} class="chip">{z}</code>)}</>} />
  );
}

/** Starts a mapping from a built-in pack (POST /api/v1/mappings with `pack`), then picks it. */
function PackStarter(props: { suggested?: string; onCreated: (mapping: Named) => void }) {
  const packs = useApi<{ data: Pack[] }>('/api/v1/mapping-packs');
  const [open, setOpen] = useState(false);
  const [packId, setPackId] = useState('');
  const [name, setName] = useState('');
  const list = packs.data?.data ?? [];
  const chosen = packId || (list.some((p) => p.id === props.suggested) ? props.suggested! : list[0]?.id ?? '');
  const pack = list.find((p) => p.id === chosen);
  const create = useAction(async () => {
    const created = await api<Named>('/api/v1/mappings', { method: 'POST', body: { name: name.trim() || pack?.name || chosen, pack: chosen } });
    props.onCreated(created);
    setOpen(false);
    setName('');
  });
  if (!open) {
    return <p class="pack-start"><button type="button" class="link" aria-expanded="false" onClick={() => setOpen(true)}>Create from pack</button> <span class="muted small">— start a new mapping from a built-in rule pack.</span></p>;
  }
  return (
    <div class="pack-starter" role="group" aria-label="Create a mapping from a pack">
      {packs.error ? <ProblemMessage error={packs.error} /> : !packs.data ? <Loading label="Loading packs…" /> : (
        <>
          <Select label="Pack" value={chosen} onChange={setPackId} options={list.map((p) => ({ value: p.id, label: p.name }))} hint={pack?.description} />
          <TextInput label="Mapping name" value={name} onInput={setName} placeholder={pack?.name ?? ''} hint="Empty: the pack’s name." error={create.error instanceof ApiError ? create.error.fieldError('/name') : undefined} />
          {create.error ? <ProblemMessage error={create.error} action="create the mapping" /> : null}
          <div class="actions">
            <button type="button" class="secondary" disabled={create.busy || !chosen} onClick={() => { void create.run(); }}>{create.busy ? 'Creating…' : 'Create mapping'}</button>
            <button type="button" class="secondary" onClick={() => { setOpen(false); create.clear(); }}>Close</button>
          </div>
        </>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- /jobs/:id

export function JobPage(props: { id: string }) {
  return <NeedsScope scope="config:read" title="Job"><JobDetail id={props.id} /></NeedsScope>;
}

function JobDetail(props: { id: string }) {
  const { can } = useSession();
  const path = `/api/v1/jobs/${encodeURIComponent(props.id)}`;
  const job = useApi<Job>(path);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const runNow = useAction(async () => {
    const run = await api<{ id: string }>(`${path}/runs`, { method: 'POST' });
    navigate(`/runs/${run.id}`);
  });
  const toggle = useAction(async (enabled: boolean) => {
    await api<Job>(path, { method: 'PATCH', body: { enabled } });
    const scheduled = Boolean(job.data?.schedule);
    // A scheduled job's Schedule section says it is paused; an unscheduled one has nothing to stop.
    setNotice(enabled ? 'Resumed.' : scheduled ? null : 'Paused. This job has no schedule, so nothing fires either way; Run now still works.');
    job.reload();
  });
  const remove = useAction(async () => {
    await api(path, { method: 'DELETE' });
    navigate('/jobs');
  });
  const j = job.data;
  const missing = job.error instanceof ApiError && job.error.status === 404;
  return (
    <Page title={j ? j.name : 'Job'} description={j ? <>Job <span class="mono">{j.id}</span></> : undefined}
      actions={j && (
        <>
          <IfAllowed scope="runs:write">
            <button type="button" disabled={runNow.busy} onClick={() => { void runNow.run(); }}>{runNow.busy ? 'Starting…' : 'Run now'}</button>
          </IfAllowed>
          <IfAllowed scope="config:write">
            {j.enabled
              ? <button type="button" class="secondary" disabled={toggle.busy} onClick={() => { void toggle.run(false); }}>Pause</button>
              : <button type="button" class="secondary" disabled={toggle.busy} onClick={() => { void toggle.run(true); }}>Resume</button>}
            <a class="button secondary" href={`/jobs/${j.id}/edit`}>Edit</a>
            {!confirmDelete && <button type="button" class="danger" onClick={() => { setConfirmDelete(true); remove.clear(); }}>Delete</button>}
          </IfAllowed>
        </>
      )}>
      {runNow.error ? <ProblemMessage error={runNow.error} action="start a run" /> : null}
      {toggle.error ? <ProblemMessage error={toggle.error} action={j?.enabled ? 'pause the job' : 'resume the job'} /> : null}
      {notice && <Notice tone="good">{notice}</Notice>}
      {j && confirmDelete && (
        <div class="confirm card" role="group" aria-labelledby="confirm-delete-job">
          <h2 id="confirm-delete-job">Delete {j.name}?</h2>
          <p>The job and its schedule are deleted. Its runs and evidence stay in the ledger; its checks stop being updated.</p>
          {remove.error ? <ProblemMessage error={remove.error} action="delete the job" /> : null}
          <div class="actions">
            <button type="button" class="danger" disabled={remove.busy} onClick={() => { void remove.run(); }}>{remove.busy ? 'Deleting…' : 'Delete job'}</button>
            <button type="button" class="secondary" onClick={() => { setConfirmDelete(false); remove.clear(); }}>Cancel</button>
          </div>
        </div>
      )}
      {missing ? <Empty>There is no job <code>{props.id}</code> in this workspace. <a href="/jobs">Back to jobs</a></Empty> : (
        <Resource fetched={job} label="Loading the job…">
          {(data) => (
            <>
              <JobSummary job={data} />
              <ScheduleSection job={data} />
              {can('runs:read') && <RecentRuns jobId={data.id} />}
              {can('evidence:read') && <JobChecks jobId={data.id} />}
            </>
          )}
        </Resource>
      )}
    </Page>
  );
}

function JobSummary(props: { job: Job }) {
  const j = props.job;
  const connection = useApi<Named>(`/api/v1/connections/${encodeURIComponent(j.connection_id)}`);
  const destination = useApi<Named>(`/api/v1/destinations/${encodeURIComponent(j.destination_id)}`);
  const mapping = useApi<Named & { version: number }>(`/api/v1/mappings/${encodeURIComponent(j.mapping_id)}`);
  const label = (f: { data?: Named; error: unknown }, id: string) => f.data?.name ?? (f.error ? <span class="mono">{id}</span> : '…');
  const targetEntries = Object.entries(j.target ?? {});
  return (
    <Section title="Details">
      <KeyValues items={[
        ['State', <JobState enabled={j.enabled} />],
        ['Connection', <a href={`/connections/${j.connection_id}`}>{label(connection, j.connection_id)}</a>],
        ['Datasets', <>{j.datasets.map((d) => <code key={d} class="chip">{d}</code>)}</>],
        ['Mapping', <><a href={`/mappings/${j.mapping_id}`}>{label(mapping, j.mapping_id)}</a> <span class="muted small">{j.mapping_version ? `pinned to version ${j.mapping_version}` : `latest${mapping.data ? ` (version ${mapping.data.version})` : ''}`}</span></>],
        ['Destination', <a href={`/destinations/${j.destination_id}`}>{label(destination, j.destination_id)}</a>],
        ['Target', targetEntries.length && targetEntries.every(([, v]) => typeof v !== 'object')
          ? <>{targetEntries.map(([k, v]) => <span key={k} class="block"><span class="muted">{k}</span> <code>{String(v)}</code></span>)}</>
          : <Json value={j.target} label="Target as JSON" />],
        ['Results stay fresh for', j.fresh_for ?? <span class="muted">{j.schedule ? 'Twice the schedule’s interval' : '7 days'}</span>],
        ['Created', <Time value={j.created_at} />],
        ['Updated', <Time value={j.updated_at} />],
      ]} />
    </Section>
  );
}

function zoneFormat(timezone: string): Intl.DateTimeFormat | null {
  try { return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: timezone }); } catch { return null; }
}

function ScheduleSection(props: { job: Job }) {
  const { schedule, enabled, next_runs: next } = props.job;
  if (!schedule) {
    return (
      <Section title="Schedule">
        <p>No schedule: this job runs only when triggered, with <strong>Run now</strong> or <code>POST /api/v1/jobs/{props.job.id}/runs</code>.</p>
        <IfAllowed scope="config:write"><a href={`/jobs/${props.job.id}/edit`}>Add a schedule</a></IfAllowed>
      </Section>
    );
  }
  const inZone = zoneFormat(schedule.timezone);
  const sameZone = schedule.timezone === browserZone;
  return (
    <Section title="Schedule">
      <p class="schedule-line">Runs on <code class="cron">{schedule.cron}</code> in the time zone <strong>{schedule.timezone}</strong>.</p>
      {!enabled ? <Notice>Paused: the schedule does not fire until the job is resumed.</Notice> : next.length === 0 ? (
        <Empty>The hub could not read the next run times from Temporal just now.</Empty>
      ) : (
        <>
          <h3 id="next-runs">Next {next.length === 1 ? 'run' : `${next.length} runs`}</h3>
          <ol class="next-runs" aria-labelledby="next-runs">
            {next.map((t) => (
              <li key={t}>
                <Time value={t} />
                {!sameZone && <span class="muted"> · {inZone ? inZone.format(new Date(t)) : t} in {schedule.timezone}</span>}
              </li>
            ))}
          </ol>
          {!sameZone && <p class="hint">The first time is in your browser’s time zone ({browserZone}); the schedule fires by the clock of {schedule.timezone}.</p>}
        </>
      )}
    </Section>
  );
}

function RecentRuns(props: { jobId: string }) {
  const runs = useApi<{ data: Run[] }>('/api/v1/runs', {
    query: { job_id: props.jobId, limit: 10 }, pollMs: 3000, pollWhile: (p) => p.data.some((r) => r.status === 'queued' || r.status === 'running'),
  });
  return (
    <Section title="Recent runs" actions={<a href={`/runs?job_id=${encodeURIComponent(props.jobId)}`}>All runs of this job</a>}>
      <Resource fetched={runs} label="Loading runs…" empty={(p) => p.data.length === 0}
        emptyText={<>This job has not run yet.{' '}<IfAllowed scope="runs:write">Choose <strong>Run now</strong> to run it.</IfAllowed></>}>
        {(p) => (
          <Table caption="Recent runs of this job, newest first" head={['Run', 'Status', 'Trigger', 'Started', 'Duration', 'Evidence', 'Delivered']}>
            {p.data.map((r) => (
              <tr key={r.id}>
                <td><a class="mono" href={`/runs/${r.id}`}><span class="visually-hidden">Run </span>{shortId(r.id)}</a></td>
                <td><Badge value={r.status} /></td>
                <td>{r.trigger}</td>
                <td class="nowrap">{r.started_at ? <Time value={r.started_at} /> : <span class="muted">Queued <Time value={r.created_at} /></span>}</td>
                <td class="nowrap">{duration(r.started_at, r.ended_at)}</td>
                <td class="num">{r.counts.evidence}</td>
                <td class="num">{r.counts.delivered}</td>
              </tr>
            ))}
          </Table>
        )}
      </Resource>
    </Section>
  );
}

function JobChecks(props: { jobId: string }) {
  const checks = useApi<{ data: Check[] }>('/api/v1/checks', { query: { job_id: props.jobId, limit: 100 } });
  return (
    <Section title="Checks">
      <Resource fetched={checks} label="Loading checks…" empty={(p) => p.data.length === 0} emptyText="No checks yet: they appear once the job has run.">
        {(p) => (
          <ul class="plain check-list">
            {p.data.map((c) => (
              <li key={c.id}><Badge value={c.status} /> <a href={`/checks/${encodeURIComponent(c.id)}`}>{c.title}</a></li>
            ))}
          </ul>
        )}
      </Resource>
    </Section>
  );
}
