import { useEffect, useState } from 'preact/hooks';
import { api, listAll } from '../../api.js';
import { useSession } from '../../session.js';
import { Field, Select, Time } from '../../ui.js';
import { fieldNames } from './completion.js';

/** The data a preview runs on: collected snapshots (a connection's latest, or a run's) or pasted records. */
export interface Sample {
  kind: 'latest' | 'run' | 'paste';
  /** What the sample is, in words. */
  label: string;
  /** Snapshots by dataset (empty for pasted data). */
  snapshots: { id: string; dataset: string; record_count?: number; collected_at?: string }[];
  data?: Record<string, unknown[]>;
}

interface Connection { id: string; name: string; type: string }
interface Snapshot { id: string; dataset: string; record_count: number; collected_at: string }
interface Job { id: string; name: string; connection_id: string; mapping_id: string }
interface Run { id: string; job_id: string | null; status: string; created_at: string; steps: { name: string; snapshot_ids?: string[] }[] }

/** The preview request's data part, for the datasets the rules read. */
export function sampleBody(sample: Sample, datasets: Set<string>): { snapshot_ids: string[] } | { data: Record<string, unknown[]> } {
  if (sample.data) return { data: sample.data };
  const used = sample.snapshots.filter((s) => datasets.has(s.dataset));
  return { snapshot_ids: (used.length ? used : sample.snapshots).map((s) => s.id) };
}

const PASTE_EXAMPLE = '{\n  "okta.users": [\n    { "id": "u1", "login": "ada@example.com", "status": "ACTIVE", "mfa_enrolled": true }\n  ]\n}';

export function SampleChooser(props: { mappingId: string; value: Sample | null; onChange: (sample: Sample | null) => void; onFields: (fields: string[]) => void }) {
  const { can } = useSession();
  const canReadRuns = can('runs:read');
  const [mode, setMode] = useState<'latest' | 'run' | 'paste'>(canReadRuns ? 'latest' : 'paste');
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [jobs, setJobs] = useState<Job[]>([]);
  const [connectionId, setConnectionId] = useState('');
  const [runs, setRuns] = useState<Run[] | null>(null);
  const [runId, setRunId] = useState('');
  const [pasted, setPasted] = useState('');
  const [pasteError, setPasteError] = useState<string | undefined>();
  const [problem, setProblem] = useState<string | null>(null);

  // Connections, and the default: the connection of the first job using this mapping.
  useEffect(() => {
    if (!canReadRuns) return;
    Promise.all([listAll<Connection>('/api/v1/connections'), listAll<Job>('/api/v1/jobs').catch(() => [] as Job[])]).then(([all, allJobs]) => {
      const mine = allJobs.filter((j) => j.mapping_id === props.mappingId);
      setJobs(mine);
      setConnections(all);
      const preferred = mine.map((j) => j.connection_id).find((id) => all.some((c) => c.id === id)) ?? all[0]?.id ?? '';
      setConnectionId((current) => current || preferred);
    }, (err: Error) => setProblem(`The connections could not be read: ${err.message}`));
  }, [props.mappingId, canReadRuns]);

  // The latest snapshot of each dataset of the chosen connection.
  useEffect(() => {
    if (mode !== 'latest' || !connectionId) return;
    const connection = connections?.find((c) => c.id === connectionId);
    api<{ data: Snapshot[] }>(`/api/v1/connections/${encodeURIComponent(connectionId)}/snapshots`, { query: { latest: true } }).then((d) => {
      if (!d.data.length) { props.onChange(null); setProblem(`Nothing collected from ${connection?.name ?? 'this connection'} yet: collect its datasets, choose another connection, or paste records.`); return; }
      setProblem(null);
      props.onChange({ kind: 'latest', label: `latest snapshots of ${connection?.name ?? connectionId}`, snapshots: d.data });
    }, (err: Error) => setProblem(`The snapshots could not be read: ${err.message}`));
  }, [mode, connectionId, connections]);

  // Runs of the jobs that use this mapping.
  useEffect(() => {
    if (mode !== 'run' || runs !== null) return;
    Promise.all(jobs.map((j) => api<{ data: Run[] }>('/api/v1/runs', { query: { job_id: j.id, limit: 20 } }).then((d) => d.data, () => [] as Run[])))
      .then((lists) => {
        const all = lists.flat().filter((r) => r.steps.some((s) => s.snapshot_ids?.length)).sort((a, b) => b.created_at.localeCompare(a.created_at));
        setRuns(all);
        if (all[0]) setRunId((current) => current || all[0]!.id);
      });
  }, [mode, jobs, runs]);

  useEffect(() => {
    if (mode !== 'run' || !runId || !runs) return;
    const run = runs.find((r) => r.id === runId);
    if (!run) return;
    const snapshots = run.steps.flatMap((s) => (s.snapshot_ids ?? []).map((id) => ({ id, dataset: s.name.replace(/^(collect|supply) /, '') })));
    props.onChange({ kind: 'run', label: `the data of run ${run.id}`, snapshots });
  }, [mode, runId, runs]);

  // Field names for completion: the first records of each snapshot.
  const sampleKey = props.value ? props.value.snapshots.map((s) => s.id).join(',') : '';
  useEffect(() => {
    const value = props.value;
    if (!value) return;
    if (value.data) { props.onFields(fieldNames(Object.values(value.data).flat())); return; }
    Promise.all(value.snapshots.map((s) => api<{ records: unknown[] }>(`/api/v1/snapshots/${encodeURIComponent(s.id)}`, { query: { limit: 20 } }).then((d) => d.records, () => [])))
      .then((lists) => props.onFields(fieldNames(lists.flat())));
  }, [sampleKey, props.value?.data]);

  const usePasted = () => {
    try {
      const value = JSON.parse(pasted) as unknown;
      if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every(Array.isArray)) throw new Error('Give an object of record lists by dataset, e.g. {"okta.users": [...]}.');
      setPasteError(undefined);
      const data = value as Record<string, unknown[]>;
      props.onChange({ kind: 'paste', label: `pasted records (${Object.entries(data).map(([k, v]) => `${v.length} ${k}`).join(', ')})`, snapshots: [], data });
    } catch (err) {
      setPasteError(err instanceof SyntaxError ? `Not JSON: ${err.message}` : (err as Error).message);
    }
  };

  const modes = [
    ...(canReadRuns ? [{ value: 'latest', label: 'Latest snapshots' }, { value: 'run', label: 'A run’s data' }] : []),
    { value: 'paste', label: 'Pasted JSON' },
  ];
  return (
    <div class="sample">
      <div class="sample-row">
        <Select label="Sample data" value={mode} options={modes} onChange={(v) => { setMode(v as typeof mode); setProblem(null); if (v === 'paste') props.onChange(null); }} />
        {mode === 'latest' && connections && connections.length > 0 && (
          <Select label="Connection" value={connectionId} onChange={setConnectionId} options={connections.map((c) => ({ value: c.id, label: c.name }))} />
        )}
        {mode === 'run' && runs && runs.length > 0 && (
          <Select label="Run" value={runId} onChange={setRunId} options={runs.map((r) => ({ value: r.id, label: `${new Date(r.created_at).toLocaleString()} · ${r.status} · ${jobs.find((j) => j.id === r.job_id)?.name ?? r.job_id ?? ''}` }))} />
        )}
      </div>
      {mode === 'latest' && connections?.length === 0 && <p class="muted small">No connections yet: paste records instead.</p>}
      {mode === 'run' && runs?.length === 0 && <p class="muted small">No job using this mapping has run yet.</p>}
      {mode === 'paste' && (
        <div class="paste">
          <Field label="Records as JSON, by dataset" error={pasteError} hint={'For example {"okta.users": [{ "id": "u1", … }]}'}>
            {(id, describedBy) => (
              <textarea id={id} rows={6} class="mono" value={pasted} placeholder={PASTE_EXAMPLE} aria-describedby={describedBy} aria-invalid={pasteError ? 'true' : undefined}
                onInput={(e) => setPasted((e.currentTarget as HTMLTextAreaElement).value)} />
            )}
          </Field>
          <div class="actions"><button type="button" class="secondary" onClick={usePasted} disabled={!pasted.trim()}>Use these records</button></div>
        </div>
      )}
      {problem && <p class="muted small" role="status">{problem}</p>}
      {props.value && props.value.snapshots.length > 0 && props.value.kind === 'latest' && (
        <p class="muted small sample-what">
          {props.value.snapshots.map((s, i) => <span key={s.id}>{i > 0 && ' · '}<code>{s.dataset}</code> {s.record_count} records, <Time value={s.collected_at} /></span>)}
        </p>
      )}
    </div>
  );
}
