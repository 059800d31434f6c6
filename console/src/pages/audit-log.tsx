import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { NeedsScope } from '../app.js';
import {
  Badge, Json, KeyValues, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Select, Table, TextInput, Time, useAction, useApi, usePaged,
  type FormEvent,
} from '../ui.js';
import './audit-log.css';

/** The tamper-evident audit log: filter it, open an entry's changes and hashes, verify the chain. */

interface Entry {
  id: string; workspace_id: string; seq: number; occurred_at: string;
  actor: { type: 'api_key' | 'system' | 'valet'; id: string; name: string | null };
  action: string; resource_type: string; resource_id: string | null; changes: unknown;
  ip: string | null; user_agent: string | null; request_id: string | null; previous_hash: string; hash: string; archived: boolean;
}
interface VerifyReport {
  verified: boolean; logs_checked: number; chain_valid: boolean; hash_mismatches: number; gaps_detected: number; links_broken: number;
  verification_hash: string; verified_at: string; scope: 'live' | 'all'; first_seq: number | null; last_seq: number | null; last_hash: string | null;
  first_broken?: { id: string | null; seq: number; reason: 'gap' | 'previous_hash_mismatch' | 'hash_mismatch' | 'checkpoint_mismatch'; detail: string };
}

interface Filters { action: string; resource_type: string; actor: string; actor_type: string; from: string; to: string; q: string; order: 'desc' | 'asc' }
const NO_FILTERS: Filters = { action: '', resource_type: '', actor: '', actor_type: '', from: '', to: '', q: '', order: 'desc' };

const ACTOR_TYPES: Record<string, string> = { api_key: 'API key', system: 'System', valet: 'Status URL (valet key)' };
const BREAK_REASONS: Record<string, string> = {
  gap: 'Entries are missing: seq does not follow on',
  previous_hash_mismatch: 'The link is broken: previous_hash is not the hash of the entry before',
  hash_mismatch: 'The entry was changed: its content no longer gives its stored hash',
  checkpoint_mismatch: 'The live log does not follow on from the archive checkpoint',
};

/** A date input (the browser's day) as the instant the API filters on: the day's start, or its end. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!day) return undefined;
  const date = new Date(`${day}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function AuditLogPage() {
  return <NeedsScope scope="audit:read" title="Audit log"><AuditLog /></NeedsScope>;
}

function AuditLog() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<Filters>(NO_FILTERS);
  const [verification, setVerification] = useState<Verification>(null);
  const query = {
    action: applied.action.trim(), resource_type: applied.resource_type.trim(), actor: applied.actor.trim(), actor_type: applied.actor_type,
    from: dayBound(applied.from, false), to: dayBound(applied.to, true), q: applied.q.trim(), order: applied.order, limit: 50,
  };
  const entries = usePaged<Entry>('/api/v1/audit-log', query);
  const set = (patch: Partial<Filters>) => setDraft((d) => ({ ...d, ...patch }));
  const filtered = JSON.stringify(applied) !== JSON.stringify(NO_FILTERS);
  const fieldError = (name: string) => (entries.error instanceof ApiError ? entries.error.fieldError(`/query/${name}`) : undefined);

  return (
    <Page title="Audit log" description="Every change made in this workspace, by whom and from where. Each entry carries the hash of the one before it, so any edit or deletion breaks the chain: Verify recomputes it."
      actions={<VerifyButton onResult={setVerification} />}>
      <VerifyResult state={verification} />
      <Section title="Entries">
        <form class="audit-filters" role="search" aria-label="Filter the audit log" onSubmit={(e: FormEvent) => { e.preventDefault(); setApplied(draft); }}>
          <div class="filters">
            <TextInput label="Action" value={draft.action} onInput={(v) => set({ action: v })} placeholder="connection.* or api_key.created" error={fieldError('action')} />
            <TextInput label="Resource type" value={draft.resource_type} onInput={(v) => set({ resource_type: v })} placeholder="job, webhook, api_key…" error={fieldError('resource_type')} />
            <TextInput label="Actor id" value={draft.actor} onInput={(v) => set({ actor: v })} placeholder="key_…" error={fieldError('actor')} />
            <Select label="Actor type" value={draft.actor_type} onChange={(v) => set({ actor_type: v })}
              options={[{ value: '', label: 'Any' }, ...Object.entries(ACTOR_TYPES).map(([value, label]) => ({ value, label }))]} />
            <TextInput label="From" type="date" value={draft.from} onInput={(v) => set({ from: v })} error={fieldError('from')} />
            <TextInput label="To" type="date" value={draft.to} onInput={(v) => set({ to: v })} error={fieldError('to')} />
            <TextInput label="Search" type="search" value={draft.q} onInput={(v) => set({ q: v })} placeholder="Text in changes, names…" error={fieldError('q')} />
            <Select label="Order" value={draft.order} onChange={(v) => set({ order: v as Filters['order'] })}
              options={[{ value: 'desc', label: 'Newest first' }, { value: 'asc', label: 'Oldest first' }]} />
          </div>
          <div class="actions">
            <button type="submit">Apply filters</button>
            {filtered && <button type="button" class="secondary" onClick={() => { setDraft(NO_FILTERS); setApplied(NO_FILTERS); }}>Clear filters</button>}
          </div>
        </form>
        <Resource fetched={entries} label="Loading the audit log…" empty={(rows) => rows.length === 0}
          emptyText={filtered ? 'No entries match these filters.' : 'The audit log is empty: nothing has changed in this workspace yet.'}>
          {(rows) => (
            <>
              <Table caption="Audit log entries" head={['Time', 'Actor', 'Action', 'Resource', 'Request id', '']}>
                {rows.map((entry) => <EntryRow key={entry.id} entry={entry} />)}
              </Table>
              <MoreButton more={entries.more} loading={entries.loadingMore} />
            </>
          )}
        </Resource>
      </Section>
    </Page>
  );
}

function Actor(props: { actor: Entry['actor']; withId?: boolean }) {
  const a = props.actor;
  return (
    <span class="actor">
      <span>{a.name ?? <span class="mono">{a.id}</span>}</span>
      <span class="muted small">{ACTOR_TYPES[a.type] ?? a.type}{props.withId && a.name && a.type === 'api_key' ? <> · <span class="mono">{a.id}</span></> : null}</span>
    </span>
  );
}

function EntryRow(props: { entry: Entry }) {
  const e = props.entry;
  const [open, setOpen] = useState(false);
  const panelId = `audit-${e.id}`;
  return (
    <>
      <tr class={open ? 'open' : undefined}>
        <td><Time value={e.occurred_at} seconds /><span class="muted small seq">#{e.seq}</span></td>
        <td><Actor actor={e.actor} /></td>
        <td class="action"><code>{e.action}</code>{e.archived && <> <Badge value="archived" /></>}</td>
        <td><span>{e.resource_type}</span>{e.resource_id && <span class="mono small resource-id">{e.resource_id}</span>}</td>
        <td class="mono small request-id">{e.request_id ?? <span class="muted">—</span>}</td>
        <td>
          <button type="button" class="secondary small-button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
            {open ? 'Hide details' : 'Details'}<span class="visually-hidden"> of entry {e.seq}, {e.action}</span>
          </button>
        </td>
      </tr>
      {open && (
        <tr class="detail-row" id={panelId}>
          <td colSpan={6}><div class="detail-fit"><EntryDetails id={e.id} /></div></td>
        </tr>
      )}
    </>
  );
}

/** One entry read back from the API: its changes, where it came from, and its place in the chain. */
function EntryDetails(props: { id: string }) {
  const entry = useApi<Entry>(`/api/v1/audit-log/${encodeURIComponent(props.id)}`);
  return (
    <Resource fetched={entry} label="Loading the entry…">
      {(e) => (
        <div class="entry-details">
          <KeyValues items={[
            ['Entry', <span class="mono">{e.id}</span>],
            ['Seq', String(e.seq)],
            ['Occurred', <Time value={e.occurred_at} seconds />],
            ['Actor', <Actor actor={e.actor} withId />],
            ['IP address', e.ip ?? <span class="muted">—</span>],
            ['User agent', e.user_agent ?? <span class="muted">—</span>],
            ['Request id', e.request_id ? <span class="mono">{e.request_id}</span> : <span class="muted">—</span>],
            ['Archived', e.archived ? 'Yes' : 'No'],
          ]} />
          <p class="hash"><span class="muted">hash</span> <code>{e.hash}</code></p>
          <p class="hash"><span class="muted">previous_hash</span> <code>{e.previous_hash}</code></p>
          <h3>Changes</h3>
          {e.changes === null || e.changes === undefined || (typeof e.changes === 'object' && Object.keys(e.changes as object).length === 0)
            ? <p class="muted">This entry records no field changes.</p>
            : <Json value={e.changes} label={`Changes recorded by entry ${e.seq}`} />}
        </div>
      )}
    </Resource>
  );
}

type Verification = { report?: VerifyReport; error?: unknown } | null;

function VerifyButton(props: { onResult: (result: Verification) => void }) {
  const verify = useAction(async () => {
    props.onResult(null);
    try {
      props.onResult({ report: await api<VerifyReport>('/api/v1/audit-log/verify', { method: 'POST', body: {} }) });
    } catch (error) {
      props.onResult({ error });
    }
  });
  return <button type="button" onClick={() => { void verify.run(); }} disabled={verify.busy}>{verify.busy ? 'Verifying…' : 'Verify'}</button>;
}

function VerifyResult(props: { state: Verification }) {
  const state = props.state;
  if (!state) return null;
  if (state.error) return <ProblemMessage error={state.error} action="verify the audit log" />;
  const r = state.report!;
  if (r.verified) {
    return (
      <Notice tone="good">
        <strong>Intact: {r.logs_checked} {r.logs_checked === 1 ? 'entry' : 'entries'} checked.</strong>{' '}
        {r.first_seq !== null && r.last_seq !== null ? <>Seq {r.first_seq} to {r.last_seq}, </> : null}verified <Time value={r.verified_at} seconds />.
        <span class="verify-hash"> Verification hash <code>{r.verification_hash}</code></span>
      </Notice>
    );
  }
  const b = r.first_broken;
  return (
    <div class="notice tone-bad" role="alert">
      <p><strong>The audit log is not intact.</strong> {r.logs_checked} entries checked: {r.hash_mismatches} changed, {r.gaps_detected} gap{r.gaps_detected === 1 ? '' : 's'}, {r.links_broken} broken link{r.links_broken === 1 ? '' : 's'}.</p>
      {b && (
        <>
          <p><strong>First broken entry: seq {b.seq}</strong> — {BREAK_REASONS[b.reason] ?? b.reason}. {b.detail}</p>
          {b.id && <div class="broken-entry"><EntryDetails id={b.id} /></div>}
        </>
      )}
    </div>
  );
}
