import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll } from '../api.js';
import { navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { IfAllowed, NeedsScope } from '../app.js';
import { compact, defaults, labelOf, SchemaFields, type FormValues, type Schema } from '../schema-form.js';
import {
  Badge, Checkbox, Empty, KeyValues, Loading, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Table, TextInput, Time,
  useAction, useApi, usePaged, type FormEvent,
} from '../ui.js';
import './connections.css';

/**
 * Connections: the sources evidence is collected from and the destinations it is delivered to.
 * Both share one API shape (/connections and /destinations), so the pages share their parts and
 * differ by a `Kind`: sources have datasets, collections and snapshots; destinations do not.
 */

interface TypeInfo {
  type: string; name: string; description: string; config_schema: Schema; secrets_schema: Schema;
  datasets?: { name: string; description: string }[]; target_schema?: Schema;
}
interface Connection {
  id: string; name: string; type: string; config: Record<string, unknown>; secret_fields: string[]; created_at: string; updated_at: string;
}
interface TestResult { ok: boolean; latency_ms: number; error?: { kind: string; message: string; status: number | null } }
interface Snapshot { id: string; connection_id: string; dataset: string; record_count: number; sha256: string; bytes: number; collected_at: string }
interface Collection {
  id: string; connection_id: string; datasets: string[]; status: 'running' | 'succeeded' | 'failed'; error: string | null;
  snapshots: Snapshot[]; created_at: string; completed_at: string | null;
}
interface JobRef { id: string; name: string; connection_id: string; destination_id: string; enabled: boolean }

interface Kind {
  /** "connection" or "destination": words in the page. */
  noun: string;
  title: string;
  api: string;
  typesApi: string;
  href: string;
  jobField: 'connection_id' | 'destination_id';
}

const SOURCES: Kind = { noun: 'connection', title: 'Connection', api: '/api/v1/connections', typesApi: '/api/v1/connectors', href: '/connections', jobField: 'connection_id' };
const DESTINATIONS: Kind = { noun: 'destination', title: 'Destination', api: '/api/v1/destinations', typesApi: '/api/v1/destination-types', href: '/destinations', jobField: 'destination_id' };

const FAILURE_KINDS: Record<string, string> = {
  auth: 'The credentials were refused',
  permission: 'The credentials lack a permission',
  not_found: 'Not found at this address',
  bad_config: 'The settings are not right',
  rate_limited: 'Rate limited',
  unavailable: 'The system did not answer',
  bad_response: 'The system answered something unexpected',
};

/** The types of a kind, read once per page. */
function useTypes(kind: Kind) {
  return useApi<{ data: TypeInfo[] }>(kind.typesApi);
}

/** Datasets a connection of this type offers: the type's own, plus those its config declares (http, push). */
function datasetsOf(info: TypeInfo | undefined, connection: Connection): { name: string; description: string }[] {
  const own = info?.datasets ?? [];
  const declared = Array.isArray(connection.config.datasets)
    ? (connection.config.datasets as { name?: unknown; description?: unknown }[])
      .filter((d) => typeof d?.name === 'string')
      .map((d) => ({ name: `${connection.type}.${String(d.name)}`, description: typeof d.description === 'string' ? d.description : 'Declared in this connection’s settings.' }))
    : [];
  return [...own, ...declared.filter((d) => !own.some((o) => o.name === d.name))];
}

/**
 * The schema with its required fields first and the operator-level tuning (max_response_mb)
 * last, so a form starts with what must be filled in.
 */
function ordered(schema: Schema): Schema {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const rank = (k: string) => (required.has(k) ? 0 : k === 'max_response_mb' ? 2 : 1);
  const keys = Object.keys(props).sort((a, b) => rank(a) - rank(b));
  return { ...schema, properties: Object.fromEntries(keys.map((k) => [k, props[k]!])) };
}

/** Defaults, and a required choice starts on its first option (a select cannot show "nothing"). */
function initialValues(schema: Schema): FormValues {
  const values = defaults(schema);
  for (const name of schema.required ?? []) {
    const prop = schema.properties?.[name];
    if (values[name] === undefined && prop?.enum?.length) values[name] = prop.enum[0];
  }
  return values;
}

function plural(n: number, word: string): string { return `${n} ${word}${n === 1 ? '' : 's'}`; }

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function ConfigValue(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined || v === '') return <span class="muted">—</span>;
  if (typeof v === 'boolean') return <>{v ? 'Yes' : 'No'}</>;
  if (typeof v === 'string' || typeof v === 'number') return <span class="config-value">{String(v)}</span>;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return <>{v.map((x) => <code key={String(x)} class="chip">{String(x)}</code>)}</>;
  return <code class="config-json">{JSON.stringify(v)}</code>;
}

// ---------------------------------------------------------------- /connections

export function ConnectionsPage() {
  return <NeedsScope scope="config:read" title="Connections"><ConnectionsOverview /></NeedsScope>;
}

function ConnectionsOverview() {
  return (
    <Page title="Connections" description="Sources are the systems evidence is collected from (Okta, Jamf, AWS…); destinations are where it is delivered (AUDIGYD…). A job joins one of each.">
      <ConnectionList kind={SOURCES} sectionTitle="Sources" newLabel="New connection"
        emptyText="No connections yet. Add one to start collecting evidence." />
      <ConnectionList kind={DESTINATIONS} sectionTitle="Destinations" newLabel="New destination"
        emptyText="No destinations yet. Add one to deliver evidence to it." />
    </Page>
  );
}

function ConnectionList(props: { kind: Kind; sectionTitle: string; newLabel: string; emptyText: string }) {
  const { can } = useSession();
  const list = usePaged<Connection>(props.kind.api, { limit: 100 });
  const types = useTypes(props.kind);
  const typeName = (type: string) => types.data?.data.find((t) => t.type === type)?.name ?? type;
  const newLink = <a class="button" href={`${props.kind.href}/new`}>{props.newLabel}</a>;
  return (
    <Section title={props.sectionTitle} actions={<IfAllowed scope="config:write">{newLink}</IfAllowed>}>
      <Resource fetched={list} label={`Loading ${props.kind.noun}s…`} empty={(rows) => rows.length === 0}
        emptyText={<><p class="empty-text">{props.emptyText}</p>{can('config:write') && newLink}</>}>
        {(rows) => (
          <>
            <Table caption={props.sectionTitle} head={['Name', 'Type', 'Secrets', 'Created']}>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td><a href={`${props.kind.href}/${c.id}`}>{c.name}</a></td>
                  <td>{typeName(c.type)} <span class="muted small mono">{c.type}</span></td>
                  <td>{c.secret_fields.length ? <span>{plural(c.secret_fields.length, 'secret')} stored</span> : <span class="muted">None</span>}</td>
                  <td class="nowrap"><Time value={c.created_at} /></td>
                </tr>
              ))}
            </Table>
            <MoreButton more={list.more} loading={list.loadingMore} />
          </>
        )}
      </Resource>
    </Section>
  );
}

// ---------------------------------------------------------------- /connections/new, /destinations/new

export function NewConnectionPage() {
  return <NeedsScope scope="config:write" title="New connection"><NewResource kind={SOURCES} /></NeedsScope>;
}

export function NewDestinationPage() {
  return <NeedsScope scope="config:write" title="New destination"><NewResource kind={DESTINATIONS} /></NeedsScope>;
}

function NewResource(props: { kind: Kind }) {
  const { kind } = props;
  const location = useLocation();
  const chosen = location.query.get('type') ?? '';
  const types = useTypes(kind);
  const info = types.data?.data.find((t) => t.type === chosen);
  const choose = (type: string) => navigate(`${kind.href}/new${type ? `?type=${encodeURIComponent(type)}` : ''}`);
  return (
    <Page title={`New ${kind.noun}`}
      description={info ? <>Type: {info.name}. <button type="button" class="link" onClick={() => choose('')}>Choose another type</button></> : `Choose the kind of system, then fill in how to reach it. Secrets are sealed at rest and never shown again.`}
      actions={<a class="button secondary" href="/connections">Back to connections</a>}>
      <Resource fetched={types} label="Loading the types…" empty={(t) => t.data.length === 0} emptyText={`This hub knows no ${kind.noun} types.`}>
        {(t) => {
          if (chosen && !info) {
            return <Notice tone="bad">There is no {kind.noun} type “{chosen}”. <button type="button" class="link" onClick={() => choose('')}>Choose one of the types</button></Notice>;
          }
          if (info) return <CreateForm key={info.type} kind={kind} info={info} />;
          return (
            <ul class="grid type-grid" aria-label={`${kind.title} types`}>
              {t.data.map((type) => (
                <li key={type.type} class="tile type-card">
                  <h2 class="type-name">{type.name}</h2>
                  <p>{type.description}</p>
                  {type.datasets && type.datasets.length > 0 && <p class="small">Datasets: {type.datasets.map((d) => d.name.replace(`${type.type}.`, '')).join(', ')}</p>}
                  <button type="button" onClick={() => choose(type.type)}>Choose<span class="visually-hidden"> {type.name}</span></button>
                </li>
              ))}
            </ul>
          );
        }}
      </Resource>
    </Page>
  );
}

/** Every message the API gave for this pointer, joined. */
function errorAt(error: unknown, pointer: string): string | undefined {
  return fieldErrors(error).filter((e) => e.pointer === pointer).map((e) => e.message).join('; ') || undefined;
}

function fieldErrors(error: unknown): { pointer: string; message: string }[] {
  return error instanceof ApiError ? error.problem.errors ?? [] : [];
}

function CreateForm(props: { kind: Kind; info: TypeInfo }) {
  const { kind, info } = props;
  const [name, setName] = useState('');
  const [config, setConfig] = useState<FormValues>(() => initialValues(info.config_schema));
  const [secrets, setSecrets] = useState<FormValues>({});
  const save = useAction(async () => {
    const created = await api<Connection>(kind.api, {
      method: 'POST',
      body: { name, type: info.type, config: compact(config), secrets: compact(secrets) },
    });
    navigate(`${kind.href}/${created.id}`);
  });
  const errors = fieldErrors(save.error);
  const hasSecrets = Object.keys(info.secrets_schema.properties ?? {}).length > 0;
  const onSubmit = (e: FormEvent) => { e.preventDefault(); void save.run(); };
  return (
    <Section title={`${info.name} ${kind.noun}`}>
      <p class="muted section-intro">{info.description}</p>
      <form class="stack" onSubmit={onSubmit} noValidate>
        <TextInput label="Name" value={name} onInput={setName} required error={errorAt(save.error, '/name')}
          hint={`How this ${kind.noun} is called in jobs and runs, e.g. “${info.name} production”.`} />
        <fieldset class="group">
          <legend>Settings</legend>
          <SchemaFields schema={ordered(info.config_schema)} values={config} onChange={setConfig} pointer="/config" errors={errors} />
        </fieldset>
        {hasSecrets && (
          <fieldset class="group">
            <legend>Secrets</legend>
            <p class="hint">Sealed at rest and never returned: after saving, the console only shows that a secret is stored.</p>
            <SchemaFields schema={ordered(info.secrets_schema)} values={secrets} onChange={setSecrets} pointer="/secrets" errors={errors} secret />
          </fieldset>
        )}
        {save.error ? <ProblemMessage error={save.error} action={`create the ${kind.noun}`} /> : null}
        <div class="actions">
          <button type="submit" disabled={save.busy}>{save.busy ? 'Creating…' : `Create ${kind.noun}`}</button>
          <a class="button secondary" href={`${kind.href}/new`}>Choose another type</a>
        </div>
      </form>
    </Section>
  );
}

// ---------------------------------------------------------------- /connections/:id, /destinations/:id

export function ConnectionPage(props: { id: string }) {
  return <NeedsScope scope="config:read" title="Connection"><ResourceDetail kind={SOURCES} id={props.id} /></NeedsScope>;
}

export function DestinationPage(props: { id: string }) {
  return <NeedsScope scope="config:read" title="Destination"><ResourceDetail kind={DESTINATIONS} id={props.id} /></NeedsScope>;
}

function ResourceDetail(props: { kind: Kind; id: string }) {
  const { kind } = props;
  const path = `${kind.api}/${encodeURIComponent(props.id)}`;
  const connection = useApi<Connection>(path);
  const types = useTypes(kind);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [saved, setSaved] = useState(false);
  const remove = useAction(async () => {
    await api(path, { method: 'DELETE' });
    navigate('/connections');
  });
  const c = connection.data;
  const info = c ? types.data?.data.find((t) => t.type === c.type) : undefined;
  const missing = connection.error instanceof ApiError && connection.error.status === 404;

  return (
    <Page title={c ? c.name : kind.title}
      description={c ? <>{info?.name ?? c.type} {kind.noun} · <span class="mono">{c.id}</span></> : undefined}
      actions={c && (
        <>
          <a class="button secondary" href="/connections">All connections</a>
          <IfAllowed scope="config:write">
            {!editing && <button type="button" class="secondary" onClick={() => { setEditing(true); setSaved(false); }}>Edit</button>}
            {!confirmDelete && <button type="button" class="danger" onClick={() => { setConfirmDelete(true); remove.clear(); }}>Delete</button>}
          </IfAllowed>
        </>
      )}>
      {missing ? (
        <Empty>There is no {kind.noun} <code>{props.id}</code> in this workspace. <a href="/connections">Back to connections</a></Empty>
      ) : (
        <Resource fetched={connection} label={`Loading the ${kind.noun}…`}>
          {(data) => (
            <>
              {confirmDelete && (
                <div class="confirm card" role="group" aria-labelledby="confirm-delete-title">
                  <h2 id="confirm-delete-title">Delete {data.name}?</h2>
                  <p>The {kind.noun} and its stored secrets are deleted. {kind === SOURCES ? 'Snapshots, runs and evidence it produced stay in the ledger.' : 'Evidence already delivered stays in the ledger.'} Jobs using it must be changed or deleted first.</p>
                  {remove.error ? <ProblemMessage error={remove.error} action={`delete the ${kind.noun}`} /> : null}
                  <div class="actions">
                    <button type="button" class="danger" disabled={remove.busy} onClick={() => { void remove.run(); }}>{remove.busy ? 'Deleting…' : `Delete ${kind.noun}`}</button>
                    <button type="button" class="secondary" onClick={() => { setConfirmDelete(false); remove.clear(); }}>Cancel</button>
                  </div>
                </div>
              )}
              {saved && <Notice tone="good">Saved.</Notice>}
              {editing
                ? <EditForm kind={kind} connection={data} info={info} path={path}
                    onDone={(updated) => { setEditing(false); if (updated) { setSaved(true); connection.reload(); } }} />
                : <Details kind={kind} connection={data} info={info} />}
              <TestSection path={path} noun={kind.noun} />
              {kind === SOURCES && <CollectSection connection={data} info={info} path={path} />}
              <JobsUsing kind={kind} id={data.id} />
            </>
          )}
        </Resource>
      )}
    </Page>
  );
}

function Details(props: { kind: Kind; connection: Connection; info: TypeInfo | undefined }) {
  const { connection: c, info } = props;
  const configProps = info?.config_schema.properties ?? {};
  const configKeys = [...Object.keys(configProps).filter((k) => k in c.config), ...Object.keys(c.config).filter((k) => !(k in configProps))];
  const secretNames = Object.keys(info?.secrets_schema.properties ?? {});
  const allSecrets = [...new Set([...c.secret_fields, ...secretNames])];
  return (
    <Section title="Details">
      <KeyValues items={[
        ['Type', <>{info?.name ?? c.type} <span class="muted small mono">{c.type}</span></>],
        ['Created', <Time value={c.created_at} />],
        ['Updated', <Time value={c.updated_at} />],
      ]} />
      <h3>Settings</h3>
      {configKeys.length === 0 ? <p class="muted">No settings.</p> : (
        <KeyValues items={configKeys.map((k) => [labelOf(k, configProps[k] ?? {}), <ConfigValue value={c.config[k]} />])} />
      )}
      <h3>Secrets</h3>
      {allSecrets.length === 0 ? <p class="muted">This type takes no secrets.</p> : (
        <ul class="plain secret-list">
          {allSecrets.map((s) => (
            <li key={s}>
              <span class="secret-name">{labelOf(s, info?.secrets_schema.properties?.[s] ?? {})}</span>{' '}
              {c.secret_fields.includes(s) ? <Badge value="ok" label="stored" /> : <Badge value="disabled" label="not set" />}
            </li>
          ))}
        </ul>
      )}
      <p class="hint">Secret values are sealed at rest and never shown; edit the {props.kind.noun} to replace one.</p>
    </Section>
  );
}

function EditForm(props: { kind: Kind; connection: Connection; info: TypeInfo | undefined; path: string; onDone: (updated: boolean) => void }) {
  const { connection: c, info, kind } = props;
  const [name, setName] = useState(c.name);
  const [config, setConfig] = useState<FormValues>(() => ({ ...c.config }));
  const [secrets, setSecrets] = useState<FormValues>({});
  const save = useAction(async () => {
    const next = compact(config);
    // PATCH merges: a field cleared in the form is sent as null, which removes it.
    const patch: Record<string, unknown> = { ...next };
    for (const key of Object.keys(c.config)) if (!(key in next)) patch[key] = null;
    const changedConfig = JSON.stringify(c.config) !== JSON.stringify(next);
    const body: Record<string, unknown> = {};
    if (name !== c.name) body.name = name;
    if (changedConfig) body.config = patch;
    // Blank secrets are left out: the stored ones are kept.
    const newSecrets = compact(secrets);
    if (Object.keys(newSecrets).length) body.secrets = newSecrets;
    if (Object.keys(body).length === 0) { props.onDone(false); return; }
    await api(props.path, { method: 'PATCH', body });
    props.onDone(true);
  });
  const errors = fieldErrors(save.error);
  const hasSecrets = Object.keys(info?.secrets_schema.properties ?? {}).length > 0;
  const onSubmit = (e: FormEvent) => { e.preventDefault(); void save.run(); };
  return (
    <Section title={`Edit ${kind.noun}`}>
      <form class="stack" onSubmit={onSubmit} noValidate>
        <TextInput label="Name" value={name} onInput={setName} required error={errorAt(save.error, '/name')} />
        <fieldset class="group">
          <legend>Settings</legend>
          {info ? <SchemaFields schema={ordered(info.config_schema)} values={config} onChange={setConfig} pointer="/config" errors={errors} />
            : <p class="muted">The hub no longer knows the type “{c.type}”: its settings cannot be edited here.</p>}
        </fieldset>
        {hasSecrets && info && (
          <fieldset class="group">
            <legend>Secrets</legend>
            <p class="hint">Leave a secret empty to keep the stored one. Changing an address (URL) needs its secrets again: they are never sent to another URL.</p>
            <SchemaFields schema={info.secrets_schema} values={secrets} onChange={setSecrets} pointer="/secrets" errors={errors} secret storedSecrets={c.secret_fields} />
          </fieldset>
        )}
        {save.error ? <ProblemMessage error={save.error} action={`save the ${kind.noun}`} /> : null}
        <div class="actions">
          <button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save changes'}</button>
          <button type="button" class="secondary" onClick={() => props.onDone(false)}>Cancel</button>
        </div>
      </form>
    </Section>
  );
}

function TestSection(props: { path: string; noun: string }) {
  const [result, setResult] = useState<TestResult | null>(null);
  const test = useAction(async () => {
    setResult(null);
    setResult(await api<TestResult>(`${props.path}/test`, { method: 'POST' }));
  });
  return (
    <Section title="Test">
      <p class="muted section-intro">Makes one cheap authenticated call with the stored settings and secrets, and says exactly what is wrong, if anything.</p>
      <div class="actions">
        <button type="button" class="secondary" disabled={test.busy} onClick={() => { void test.run(); }}>Test connection</button>
      </div>
      <div role="status" class="test-result">
        {test.busy && <span class="muted"><span class="spinner inline-spinner" aria-hidden="true" /> Testing…</span>}
        {result?.ok && <div class="notice tone-good"><strong>The {props.noun} works.</strong> It answered in {result.latency_ms} ms.</div>}
        {result && !result.ok && (
          <div class="notice tone-bad">
            <strong>{FAILURE_KINDS[result.error?.kind ?? ''] ?? 'The test failed'}{result.error?.status ? ` (HTTP ${result.error.status})` : ''}.</strong>{' '}
            {result.error?.message}
          </div>
        )}
      </div>
      {test.error ? <ProblemMessage error={test.error} action="test the connection" /> : null}
    </Section>
  );
}

function CollectSection(props: { connection: Connection; info: TypeInfo | undefined; path: string }) {
  const { can } = useSession();
  const { connection: c } = props;
  const datasets = datasetsOf(props.info, c);
  const [picked, setChosen] = useState<string[] | null>(null);
  // Every dataset until the user picks (the type's list may arrive after the connection).
  const chosen = picked ?? datasets.map((d) => d.name);
  const [collection, setCollection] = useState<Collection | null>(null);
  const [pollError, setPollError] = useState<unknown>(null);
  const canCollect = can('runs:write');
  const canSee = can('runs:read');
  const snapshots = usePaged<Snapshot>(canSee ? `${props.path}/snapshots` : null, { limit: 50 });
  const collect = useAction(async () => {
    setCollection(null);
    setPollError(null);
    setCollection(await api<Collection>(`${props.path}/collect`, { method: 'POST', body: { datasets: chosen }, query: { wait: 10 } }));
  });
  // A collection still running after the wait: read it every 2 s until it ends.
  useEffect(() => {
    if (!collection) return;
    if (collection.status !== 'running') { snapshots.reload(); return; }
    if (!canSee) return;
    const timer = setTimeout(() => {
      api<Collection>(`/api/v1/collections/${encodeURIComponent(collection.id)}`).then(setCollection, setPollError);
    }, 2000);
    return () => clearTimeout(timer);
  }, [collection]);
  const running = collect.busy || collection?.status === 'running';
  const isPush = c.type === 'push';

  return (
    <>
      {(canCollect || isPush) && (
        <Section title="Datasets">
          {isPush ? (
            <>
              <p class="muted section-intro">A push connection’s records arrive with each run (POST /api/v1/jobs/:id/runs with <code>input</code>): there is nothing to collect.</p>
              <DatasetList datasets={datasets} />
            </>
          ) : datasets.length === 0 ? <Empty>This connection declares no datasets.</Empty> : (
            <>
              <p class="muted section-intro">Collect now to look at real data before writing a mapping. Each dataset becomes a snapshot.</p>
              <fieldset class="group">
                <legend>Datasets to collect</legend>
                <div class="dataset-choices">
                  {datasets.map((d) => (
                    <Checkbox key={d.name} label={d.name} hint={d.description} checked={chosen.includes(d.name)}
                      onChange={(on) => setChosen(on ? [...chosen, d.name] : chosen.filter((x) => x !== d.name))} />
                  ))}
                </div>
              </fieldset>
              <div class="actions">
                <button type="button" disabled={running || chosen.length === 0} onClick={() => { void collect.run(); }}>Collect now</button>
                {chosen.length === 0 && <span class="muted small">Choose at least one dataset.</span>}
              </div>
              <div role="status" class="collect-status">
                {running && <p class="live-note"><span class="spinner inline-spinner" aria-hidden="true" /> Collecting {plural(chosen.length, 'dataset')}… {collection && <>started <Time value={collection.created_at} seconds />; </>}this can take a while for a large system.</p>}
                {collection?.status === 'succeeded' && (
                  <div class="notice tone-good">
                    <strong>Collected.</strong> {plural(collection.snapshots.length, 'snapshot')}{collection.completed_at && <> at <Time value={collection.completed_at} seconds /></>}:
                    <ul class="collected">{collection.snapshots.map((s) => <li key={s.id}><span class="mono">{s.dataset}</span>: {plural(s.record_count, 'record')}</li>)}</ul>
                  </div>
                )}
                {collection?.status === 'failed' && <div class="notice tone-bad"><strong>The collection failed.</strong> {collection.error ?? ''}</div>}
              </div>
              {collect.error ? <ProblemMessage error={collect.error} action="collect" /> : null}
              {pollError ? <ProblemMessage error={pollError} action="follow the collection" /> : null}
            </>
          )}
        </Section>
      )}
      {!canCollect && !isPush && (
        <Section title="Datasets"><DatasetList datasets={datasets} /></Section>
      )}
      <Section title="Snapshots">
        {!canSee ? <Notice>Listing snapshots needs the runs:read scope.</Notice> : (
          <Resource fetched={snapshots} label="Loading snapshots…" empty={(rows) => rows.length === 0}
            emptyText={isPush ? 'No snapshots yet: they are made from the records each run supplies.' : <>No snapshots yet.{canCollect ? ' Choose Collect now, or run a job that uses this connection.' : ' They appear when a job using this connection runs.'}</>}>
            {(rows) => (
              <>
                <Table caption="Snapshots, newest first" head={['Dataset', 'Records', 'Size', 'Collected', 'Snapshot']}>
                  {rows.map((s) => (
                    <tr key={s.id}>
                      <td class="mono">{s.dataset}</td>
                      <td class="num">{s.record_count.toLocaleString()}</td>
                      <td class="num nowrap">{bytes(s.bytes)}</td>
                      <td class="nowrap"><Time value={s.collected_at} seconds /></td>
                      <td class="mono small">{s.id}</td>
                    </tr>
                  ))}
                </Table>
                <MoreButton more={snapshots.more} loading={snapshots.loadingMore} />
              </>
            )}
          </Resource>
        )}
      </Section>
    </>
  );
}

function DatasetList(props: { datasets: { name: string; description: string }[] }) {
  if (props.datasets.length === 0) return <Empty>This connection declares no datasets.</Empty>;
  return (
    <dl class="datasets">
      {props.datasets.map((d) => <div key={d.name}><dt class="mono">{d.name}</dt><dd>{d.description}</dd></div>)}
    </dl>
  );
}

/** The jobs using this connection or destination (why a delete answers 409). */
function JobsUsing(props: { kind: Kind; id: string }) {
  const [jobs, setJobs] = useState<JobRef[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    listAll<JobRef>('/api/v1/jobs').then((all) => setJobs(all.filter((j) => j[props.kind.jobField] === props.id)), setError);
  }, [props.id]);
  const newJob = <a class="button secondary" href={`/jobs/new?${props.kind.jobField}=${encodeURIComponent(props.id)}`}>New job</a>;
  let body: ComponentChildren;
  if (error) body = <ProblemMessage error={error} />;
  else if (!jobs) body = <Loading label="Loading jobs…" />;
  else if (jobs.length === 0) body = <Empty>No job uses this {props.kind.noun} yet.</Empty>;
  else {
    body = (
      <ul class="plain job-list">
        {jobs.map((j) => <li key={j.id}><a href={`/jobs/${j.id}`}>{j.name}</a> {j.enabled ? null : <Badge value="paused" />}</li>)}
      </ul>
    );
  }
  return <Section title="Jobs using it" actions={<IfAllowed scope="config:write">{newJob}</IfAllowed>}>{body}</Section>;
}
