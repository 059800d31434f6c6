import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { navigate } from '../router.js';
import { IfAllowed, NeedsScope } from '../app.js';
import {
  Badge, Checkbox, Empty, KeyValues, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Select, ShownOnce, Table, TextInput, Time,
  useAction, useApi, useLiveList, usePaged, type FormEvent,
} from '../ui.js';
import './webhooks.css';

/** Webhook endpoints: subscribe, edit, rotate the signing secret, test, and follow every delivery. */

interface Webhook {
  id: string; url: string; url_redacted: boolean; events: string[]; description: string | null; enabled: boolean;
  disabled_reason: 'gone' | 'failing' | null; disabled_at: string | null; failing_since: string | null; last_success_at: string | null;
  previous_secret_expires_at: string | null; created_at: string; updated_at: string;
}
interface EventType { type: string; description: string }
interface Attempt { attempted_at: string; status_code: number | null; latency_ms: number; response_body: string | null; error: string | null }
interface Delivery {
  id: string; webhook_id: string; event_id: string; event_type: string; status: 'pending' | 'retrying' | 'delivered' | 'failed'; attempt_count: number;
  next_attempt_at: string | null; last_status_code: number | null; last_error: string | null; redelivery_of: string | null;
  created_at: string; delivered_at: string | null; attempts: Attempt[];
}

const DISABLED_REASONS: Record<string, string> = {
  gone: 'the endpoint answered 410 Gone',
  failing: 'deliveries kept failing without a success',
};

/** The catalog's descriptions mark names with backticks: show them as code. */
function Described(props: { text: string }) {
  return <>{props.text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : part))}</>;
}

function EndpointState(props: { webhook: Webhook }) {
  const w = props.webhook;
  if (!w.enabled) return <Badge value="disabled" label={w.disabled_reason ? `disabled (${w.disabled_reason})` : 'disabled'} />;
  if (w.failing_since) return <Badge value="failed" label="failing" />;
  return <Badge value="enabled" />;
}

function EventList(props: { events: string[] }) {
  if (props.events.length === 0) return <span class="muted">All events</span>;
  return <span class="event-list">{props.events.map((e) => <code key={e} class="chip">{e}</code>)}</span>;
}

/** Event type checkboxes, each with what the event means; none chosen means every event. */
function EventPicker(props: { selected: string[]; onChange: (events: string[]) => void; error?: string }) {
  const types = useApi<{ data: EventType[] }>('/api/v1/event-types');
  const toggle = (type: string, on: boolean) => props.onChange(on ? [...props.selected, type] : props.selected.filter((t) => t !== type));
  return (
    <fieldset class={`field event-picker${props.error ? ' has-error' : ''}`}>
      <legend>Events</legend>
      <p class="hint">Choose the events this endpoint receives. Leave every box clear to receive all of them, including types added later.</p>
      <Resource fetched={types} label="Loading event types…" empty={(d) => d.data.length === 0} emptyText="The hub lists no event types.">
        {(d) => (
          <div class="event-choices">
            {d.data.map((t) => (
              <Checkbox key={t.type} label={t.type} checked={props.selected.includes(t.type)} onChange={(on) => toggle(t.type, on)} hint={<Described text={t.description} />} />
            ))}
          </div>
        )}
      </Resource>
      {props.error && <p class="field-error">{props.error}</p>}
    </fieldset>
  );
}

const fieldError = (error: unknown, pointer: string) => (error instanceof ApiError ? error.fieldError(pointer) : undefined);

// ---------------------------------------------------------------- /webhooks

export function WebhooksPage() {
  return <NeedsScope scope="config:read" title="Webhooks"><WebhookList /></NeedsScope>;
}

function WebhookList() {
  const list = usePaged<Webhook>('/api/v1/webhooks');
  const [created, setCreated] = useState<(Webhook & { secret: string }) | null>(null);
  return (
    <Page title="Webhooks" description="Endpoints that receive signed events (Standard Webhooks) when runs finish, controls fail or evidence is rejected.">
      {created && (
        <ShownOnce label="Signing secret" value={created.secret}>
          <p>Verify each delivery's <code>webhook-signature</code> header with it. <a href={`/webhooks/${created.id}`}>Open the new endpoint</a> to send a test event.</p>
        </ShownOnce>
      )}
      <Section title="Endpoints">
        <Resource fetched={list} label="Loading endpoints…" empty={(rows) => rows.length === 0}
          emptyText={<>No webhook endpoints yet.<IfAllowed scope="config:write"> Add one below to be told when runs finish or controls fail.</IfAllowed></>}>
          {(rows) => (
            <>
              <Table caption="Webhook endpoints" head={['URL', 'Events', 'Status', 'Description', 'Last success']}>
                {rows.map((w) => (
                  <tr key={w.id}>
                    <td class="url-cell"><a href={`/webhooks/${w.id}`} class="mono">{w.url}</a>{w.url_redacted && <span class="muted small"> (path hidden)</span>}</td>
                    <td><EventList events={w.events} /></td>
                    <td><EndpointState webhook={w} /></td>
                    <td>{w.description ?? <span class="muted">—</span>}</td>
                    <td><Time value={w.last_success_at} empty="Never" /></td>
                  </tr>
                ))}
              </Table>
              <MoreButton more={list.more} loading={list.loadingMore} />
            </>
          )}
        </Resource>
      </Section>
      <IfAllowed scope="config:write">
        <Section title="Add an endpoint">
          <CreateWebhook onCreated={(w) => { setCreated(w); list.reload(); window.scrollTo({ top: 0 }); }} />
        </Section>
      </IfAllowed>
    </Page>
  );
}

function CreateWebhook(props: { onCreated: (w: Webhook & { secret: string }) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const create = useAction(async () => {
    const w = await api<Webhook & { secret: string }>('/api/v1/webhooks', { method: 'POST', body: { url: url.trim(), events, description: description.trim() || null } });
    setUrl(''); setDescription(''); setEvents([]);
    props.onCreated(w);
  });
  const submit = (e: FormEvent) => { e.preventDefault(); void create.run(); };
  const err = create.error;
  return (
    <form class="stack wide" onSubmit={submit} noValidate>
      <TextInput label="URL" type="url" value={url} onInput={setUrl} required placeholder="https://example.com/hooks/evidence-hub"
        hint="Events are POSTed here as JSON. Slack, Teams and similar receivers often carry a credential in the path: only keys with config:write see it." error={fieldError(err, '/url')} />
      <TextInput label="Description" value={description} onInput={setDescription} hint="Optional: who owns this endpoint, what it feeds." error={fieldError(err, '/description')} />
      <EventPicker selected={events} onChange={setEvents} error={fieldError(err, '/events')} />
      {err ? <ProblemMessage error={err} action="add the endpoint" /> : null}
      <div class="actions"><button type="submit" disabled={create.busy || !url.trim()}>{create.busy ? 'Adding…' : 'Add endpoint'}</button></div>
    </form>
  );
}

// ---------------------------------------------------------------- /webhooks/:id

export function WebhookPage(props: { id: string }) {
  return <NeedsScope scope="config:read" title="Webhook"><WebhookDetail id={props.id} /></NeedsScope>;
}

function hostOf(url: string): string {
  try { return new URL(url).host; } catch { return url; }
}

function WebhookDetail(props: { id: string }) {
  const path = `/api/v1/webhooks/${encodeURIComponent(props.id)}`;
  const webhook = useApi<Webhook>(path);
  const [status, setStatus] = useState('');
  const deliveries = useLiveList<Delivery>(path + '/deliveries', { status }, { pollMs: 2000, pollWhile: (rows) => rows.some((d) => d.status === 'pending' || d.status === 'retrying') });
  const [secret, setSecret] = useState<{ value: string; previousUntil: string | null } | null>(null);
  const [notice, setNotice] = useState<ComponentChildren>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [editing, setEditing] = useState(false);

  const rotate = useAction(async () => {
    const w = await api<Webhook & { secret: string }>(`${path}/rotate-secret`, { method: 'POST' });
    setSecret({ value: w.secret, previousUntil: w.previous_secret_expires_at });
    setNotice(null);
    webhook.reload();
  });
  const test = useAction(async () => {
    const sent = await api<{ event_id: string; delivery_id: string | null }>(`${path}/test`, { method: 'POST' });
    setNotice(<>Test event <code>{sent.event_id}</code> queued; its delivery appears below.</>);
    deliveries.reload();
  });
  const remove = useAction(async () => {
    await api(path, { method: 'DELETE' });
    navigate('/webhooks');
  });

  const w = webhook.data;
  const title = w ? `Webhook ${hostOf(w.url)}` : 'Webhook';
  const actionError = rotate.error ?? test.error ?? remove.error;
  return (
    <Page title={title} description={w?.description ?? undefined}
      actions={w && (
        <IfAllowed scope="config:write">
          <button type="button" onClick={() => { void test.run(); }} disabled={test.busy || !w.enabled} title={w.enabled ? undefined : 'Enable the endpoint first'}>{test.busy ? 'Sending…' : 'Send test event'}</button>
          <button type="button" class="secondary" onClick={() => { void rotate.run(); }} disabled={rotate.busy}>{rotate.busy ? 'Rotating…' : 'Rotate secret'}</button>
          <button type="button" class="danger" onClick={() => setConfirmDelete(true)} aria-expanded={confirmDelete}>Delete</button>
        </IfAllowed>
      )}>
      {confirmDelete && w && (
        <div class="confirm notice tone-bad" role="alertdialog" aria-label="Delete this endpoint?">
          <p><strong>Delete the endpoint {hostOf(w.url)}?</strong> Nothing more is sent to it, including retries still scheduled. Its deliveries stay in the log.</p>
          <div class="actions">
            <button type="button" class="danger" onClick={() => { void remove.run(); }} disabled={remove.busy}>{remove.busy ? 'Deleting…' : 'Delete endpoint'}</button>
            <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>Keep it</button>
          </div>
        </div>
      )}
      {actionError ? <ProblemMessage error={actionError} /> : null}
      {secret && (
        <ShownOnce label="New signing secret" value={secret.value}>
          {secret.previousUntil
            ? <p>The previous secret also signs deliveries until <Time value={secret.previousUntil} />, so receivers can switch over.</p>
            : <p>The previous secret no longer signs deliveries.</p>}
        </ShownOnce>
      )}
      {notice && <Notice tone="good">{notice}</Notice>}
      <Resource fetched={webhook} label="Loading the endpoint…">
        {(data) => (
          <>
            {!data.enabled && (
              <Notice tone="bad">
                This endpoint is disabled{data.disabled_reason ? `: ${DISABLED_REASONS[data.disabled_reason] ?? data.disabled_reason}` : ''}{data.disabled_at ? <> (<Time value={data.disabled_at} />)</> : null}.
                <IfAllowed scope="config:write"> Enable it below, then recover the deliveries it missed.</IfAllowed>
              </Notice>
            )}
            <Section title="Details" actions={!editing && (
              <IfAllowed scope="config:write">
                <button type="button" class="secondary" aria-expanded={false} onClick={() => { setEditing(true); setNotice(null); }}>Edit endpoint</button>
              </IfAllowed>
            )}>
              {editing
                ? <EditWebhook webhook={data} path={path} onCancel={() => setEditing(false)} onSaved={() => { setEditing(false); webhook.reload(); setNotice('Changes saved.'); }} />
                : (
                  <KeyValues items={[
                    ['URL', <span class="mono">{data.url}{data.url_redacted && <span class="muted"> (path hidden from this key)</span>}</span>],
                    ['Status', <EndpointState webhook={data} />],
                    ['Events', <EventList events={data.events} />],
                    ['Description', data.description ?? <span class="muted">—</span>],
                    ['Last success', <Time value={data.last_success_at} empty="Never" />],
                    ['Failing since', <Time value={data.failing_since} empty="Not failing" />],
                    ['Previous secret signs until', <Time value={data.previous_secret_expires_at} empty="—" />],
                    ['Created', <Time value={data.created_at} />],
                    ['Updated', <Time value={data.updated_at} />],
                  ]} />
                )}
            </Section>
          </>
        )}
      </Resource>
      <Section title="Deliveries">
        <IfAllowed scope="config:write">{w && <Recover path={path} enabled={w.enabled} onRecovered={deliveries.reload} />}</IfAllowed>
        <h3>Delivery log</h3>
        <div class="filters">
          <Select label="Delivery status" value={status} onChange={setStatus}
            options={[{ value: '', label: 'All deliveries' }, { value: 'failed', label: 'Failed' }, { value: 'retrying', label: 'Retrying' }, { value: 'pending', label: 'Pending' }, { value: 'delivered', label: 'Delivered' }]} />
        </div>
        <Resource fetched={deliveries} label="Loading deliveries…" empty={(rows) => rows.length === 0}
          emptyText={status ? `No ${status} deliveries.` : <>Nothing has been sent to this endpoint yet.<IfAllowed scope="config:write"> Use <strong>Send test event</strong> to try it.</IfAllowed></>}>
          {(rows) => (
            <>
              <Table caption="Deliveries to this endpoint, newest first" head={['Event', 'Status', 'Attempts', 'Created', 'Last response', '']}>
                {rows.map((d) => <DeliveryRow key={d.id} delivery={d} onRedelivered={deliveries.reload} />)}
              </Table>
              <MoreButton more={deliveries.more} loading={deliveries.loadingMore} />
            </>
          )}
        </Resource>
      </Section>
    </Page>
  );
}

function EditWebhook(props: { webhook: Webhook; path: string; onSaved: () => void; onCancel: () => void }) {
  const w = props.webhook;
  const [url, setUrl] = useState(w.url);
  const [description, setDescription] = useState(w.description ?? '');
  const [events, setEvents] = useState<string[]>(w.events);
  const [enabled, setEnabled] = useState(w.enabled);
  const [nothing, setNothing] = useState(false);
  const save = useAction(async () => {
    const patch: Record<string, unknown> = {};
    if (url.trim() !== w.url) patch.url = url.trim();
    if ((description.trim() || null) !== w.description) patch.description = description.trim() || null;
    if ([...events].sort().join() !== [...w.events].sort().join()) patch.events = events;
    if (enabled !== w.enabled) patch.enabled = enabled;
    if (Object.keys(patch).length === 0) { setNothing(true); return; }
    await api(props.path, { method: 'PATCH', body: patch });
    props.onSaved();
  });
  const err = save.error;
  return (
    <form class="stack wide" onSubmit={(e: FormEvent) => { e.preventDefault(); setNothing(false); void save.run(); }} noValidate>
      <TextInput label="URL" type="url" value={url} onInput={setUrl} required error={fieldError(err, '/url')} />
      <TextInput label="Description" value={description} onInput={setDescription} error={fieldError(err, '/description')} />
      <Checkbox label="Enabled" checked={enabled} onChange={setEnabled}
        hint={w.enabled ? 'Clear to stop sending events to this endpoint.' : 'Tick to send events again (a disabled endpoint receives nothing, not even retries).'} />
      <EventPicker selected={events} onChange={setEvents} error={fieldError(err, '/events')} />
      {err ? <ProblemMessage error={err} action="save the endpoint" /> : null}
      {nothing && <Notice>Nothing has changed.</Notice>}
      <div class="actions">
        <button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save changes'}</button>
        <button type="button" class="secondary" onClick={props.onCancel}>Discard changes</button>
      </div>
    </form>
  );
}

/** A datetime-local value (the browser's time zone) for a moment. */
function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function Recover(props: { path: string; enabled: boolean; onRecovered: () => void }) {
  const [since, setSince] = useState(() => localInput(new Date(Date.now() - 24 * 3600_000)));
  const [result, setResult] = useState<number | null>(null);
  const recover = useAction(async () => {
    const date = new Date(since);
    if (!since || Number.isNaN(date.getTime())) throw new ApiError({ status: 400, title: 'Choose a time', detail: 'Choose the date and time to recover from.', errors: [{ pointer: '/since', message: 'choose a date and time' }] });
    const answer = await api<{ recovered: number }>(`${props.path}/recover`, { method: 'POST', body: { since: date.toISOString() } });
    setResult(answer.recovered);
    props.onRecovered();
  });
  return (
    <form class="recover" onSubmit={(e: FormEvent) => { e.preventDefault(); setResult(null); void recover.run(); }} noValidate>
      <h3>Recover missed events</h3>
      <p class="hint">Every event since the time you choose whose delivery here failed is sent again: after an outage, or after the endpoint was disabled.</p>
      <div class="filters">
        <TextInput label="Failed since" type="datetime-local" value={since} onInput={setSince} error={fieldError(recover.error, '/since')} />
        <button type="submit" class="secondary" disabled={recover.busy || !props.enabled} title={props.enabled ? undefined : 'Enable the endpoint first'}>{recover.busy ? 'Recovering…' : 'Recover since…'}</button>
      </div>
      {recover.error && !fieldError(recover.error, '/since') ? <ProblemMessage error={recover.error} action="recover deliveries" /> : null}
      {result !== null && <Notice tone={result ? 'good' : 'info'}>{result ? `${result} failed deliver${result === 1 ? 'y' : 'ies'} queued again.` : 'No failed deliveries since then: nothing to send again.'}</Notice>}
    </form>
  );
}

function DeliveryStatus(props: { status: Delivery['status'] }) {
  return props.status === 'retrying' ? <Badge value="pending" label="retrying" /> : <Badge value={props.status} />;
}

function DeliveryRow(props: { delivery: Delivery; onRedelivered: () => void }) {
  const d = props.delivery;
  const [open, setOpen] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const redeliver = useAction(async () => {
    const copy = await api<Delivery>(`/api/v1/webhook-deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: 'POST' });
    setSent(copy.id);
    props.onRedelivered();
  });
  // The listing carries every attempt; the delivery itself is read when the listing has none.
  const detail = useApi<Delivery>(open && d.attempts.length === 0 && d.attempt_count > 0 ? `/api/v1/webhook-deliveries/${encodeURIComponent(d.id)}` : null);
  const attempts = d.attempts.length ? d.attempts : detail.data?.attempts ?? [];
  const panelId = `attempts-${d.id}`;
  return (
    <>
      <tr>
        <td><code>{d.event_type}</code>{d.redelivery_of && <span class="muted small"> (redelivery)</span>}</td>
        <td><DeliveryStatus status={d.status} />{d.next_attempt_at && d.status !== 'delivered' && <span class="muted small"> next <Time value={d.next_attempt_at} seconds /></span>}</td>
        <td class="num">{d.attempt_count}</td>
        <td class="nowrap"><Time value={d.created_at} seconds /></td>
        <td>{d.last_status_code !== null ? <code>HTTP {d.last_status_code}</code> : null}{d.last_error && <span class="reason"> {d.last_error}</span>}{d.last_status_code === null && !d.last_error && <span class="muted">—</span>}</td>
        <td><div class="row-actions">
          <button type="button" class="secondary small-button" aria-expanded={open} aria-controls={panelId} onClick={() => setOpen(!open)}>
            {open ? 'Hide attempts' : 'Attempts'}<span class="visually-hidden"> of {d.event_type} delivery {d.id}</span>
          </button>
          <IfAllowed scope="config:write">
            <button type="button" class="secondary small-button" onClick={() => { void redeliver.run(); }} disabled={redeliver.busy}>{redeliver.busy ? 'Sending…' : 'Redeliver'}</button>
          </IfAllowed>
        </div></td>
      </tr>
      {(open || redeliver.error || sent) && (
        <tr class="detail-row" id={panelId}>
          <td colSpan={6}><div class="detail-fit">
            {redeliver.error ? <ProblemMessage error={redeliver.error} action="redeliver" /> : null}
            {sent && <Notice tone="good">Sent again as delivery <code>{sent}</code> (same webhook-id, <code>{d.event_id}</code>).</Notice>}
            {open && (
              <div class="attempts">
                <p class="muted small">Delivery <code>{d.id}</code> of event <code>{d.event_id}</code>{d.delivered_at && <> · delivered <Time value={d.delivered_at} seconds /></>}</p>
                {detail.loading ? <p class="muted">Loading attempts…</p> : detail.error ? <ProblemMessage error={detail.error} /> : attempts.length === 0
                  ? <Empty>No attempt yet{d.next_attempt_at ? <>: the first is due <Time value={d.next_attempt_at} seconds /></> : ''}.</Empty>
                  : (
                    <ol class="attempt-list">
                      {attempts.map((a, i) => (
                        <li key={a.attempted_at + i}>
                          <div class="attempt-head">
                            <strong>Attempt {i + 1}</strong>
                            <Time value={a.attempted_at} seconds />
                            {a.status_code !== null ? <Badge value={a.status_code < 300 ? 'ok' : 'error'} label={`HTTP ${a.status_code}`} /> : <Badge value="error" label="no response" />}
                            <span class="muted">{a.latency_ms} ms</span>
                          </div>
                          {a.error && <p class="reason">{a.error}</p>}
                          {a.response_body ? <pre class="response-body" tabIndex={0} aria-label={`Response body of attempt ${i + 1} (first 4 KB)`}>{a.response_body}</pre> : null}
                        </li>
                      ))}
                    </ol>
                  )}
              </div>
            )}
          </div></td>
        </tr>
      )}
    </>
  );
}
