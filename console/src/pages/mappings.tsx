import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll } from '../api.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { IfAllowed, NeedsScope } from '../app.js';
import {
  Badge, Empty, Json, KeyValues, MoreButton, Notice, Page, ProblemMessage, Resource, Section, Table, TextInput, Time, useAction, useApi, usePaged,
  type FormEvent,
} from '../ui.js';
import './mappings.css';

/** Mapping sets (the rules that turn collected data into evidence), their versions, and the built-in packs. */

interface MappingSummary { id: string; name: string; description: string | null; version: number; created_at: string; updated_at: string }
interface Mapping extends MappingSummary {
  pack: string | null; restored_from: number | null; rules: Rule[];
  /** The text the version was written as, when it was sent as text (YAML comments kept). */
  source?: string | null; source_format?: 'yaml' | 'json' | null; message?: string | null;
}
interface Rule { id?: string; control_ref?: string; title?: string; dataset?: string; enabled?: boolean; [field: string]: unknown }
interface Pack { id: string; name: string; description: string; rules: Rule[] }
interface Version {
  version: number; pack: string | null; restored_from: number | null; created_by: string | null; created_at: string;
  message?: string | null; pinned_jobs?: { id: string; name: string }[];
}

// ---------------------------------------------------------------- /mappings

export function MappingsPage() {
  return <NeedsScope scope="config:read" title="Mappings"><Mappings /></NeedsScope>;
}

function Mappings() {
  const sets = usePaged<MappingSummary>('/api/v1/mappings');
  const packs = useApi<{ data: Pack[] }>('/api/v1/mapping-packs');
  return (
    <Page title="Mappings" description="A mapping set's rules read the data a job collects and decide, control by control, what evidence it becomes and whether it passes. Every change is kept as a new version.">
      <Section title="Mapping sets">
        <Resource fetched={sets} label="Loading mapping sets…" empty={(rows) => rows.length === 0}
          emptyText={<>No mapping sets yet.<IfAllowed scope="config:write"> Start from one of the built-in packs below.</IfAllowed></>}>
          {(rows) => (
            <>
              <Table caption="Mapping sets" head={['Name', 'Latest version', 'Updated', 'Description']}>
                {rows.map((m) => (
                  <tr key={m.id}>
                    <td><a href={`/mappings/${m.id}`}>{m.name}</a></td>
                    <td class="num">{m.version}</td>
                    <td class="nowrap"><Time value={m.updated_at} /></td>
                    <td>{m.description ?? <span class="muted">—</span>}</td>
                  </tr>
                ))}
              </Table>
              <MoreButton more={sets.more} loading={sets.loadingMore} />
            </>
          )}
        </Resource>
      </Section>
      <Section title="Built-in packs">
        <p class="muted section-intro">Ready-made rules for common sources, each citing the control it evidences. Using a pack copies its rules into a new mapping set of your own.</p>
        <Resource fetched={packs} label="Loading packs…" empty={(d) => d.data.length === 0} emptyText="This hub ships no packs.">
          {(d) => <div class="grid packs">{d.data.map((p) => <PackTile key={p.id} pack={p} onCreated={sets.reload} />)}</div>}
        </Resource>
      </Section>
    </Page>
  );
}

function PackTile(props: { pack: Pack; onCreated: () => void }) {
  const p = props.pack;
  const [open, setOpen] = useState(false);
  const [name, setName] = useState(p.name);
  const create = useAction(async () => {
    const created = await api<Mapping>('/api/v1/mappings', { method: 'POST', body: { name: name.trim(), pack: p.id } });
    props.onCreated();
    navigate(`/mappings/${created.id}`);
  });
  const err = create.error instanceof ApiError ? create.error : null;
  return (
    <article class="tile pack" aria-labelledby={`pack-${p.id}`}>
      <h3 id={`pack-${p.id}`}>{p.name}</h3>
      <p>{p.description}</p>
      <p class="pack-count"><Badge value="info" label={`${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}`} /> <code class="muted">{p.id}</code></p>
      <IfAllowed scope="config:write">
        {open
          ? (
            <form class="stack" onSubmit={(e: FormEvent) => { e.preventDefault(); if (name.trim()) void create.run(); }} noValidate>
              <TextInput label="Name of the new mapping set" value={name} onInput={setName} required error={err?.fieldError('/name') ?? (!name.trim() ? 'Give it a name.' : undefined)} />
              {create.error && !err?.fieldError('/name') ? <ProblemMessage error={create.error} action="create the mapping set" /> : null}
              <div class="actions">
                <button type="submit" disabled={create.busy || !name.trim()}>{create.busy ? 'Creating…' : 'Create mapping set'}</button>
                <button type="button" class="secondary" onClick={() => { setOpen(false); create.clear(); }}>Cancel<span class="visually-hidden"> using {p.name}</span></button>
              </div>
            </form>
          )
          : <button type="button" class="secondary" aria-expanded={false} onClick={() => setOpen(true)}>Use this pack<span class="visually-hidden">: {p.name}</span></button>}
      </IfAllowed>
    </article>
  );
}

// ---------------------------------------------------------------- /mappings/:id

export function MappingPage(props: { id: string }) {
  return <NeedsScope scope="config:read" title="Mapping"><MappingDetail id={props.id} /></NeedsScope>;
}

/** API key names by id, for "published by" (only an admin key may list keys; others see ids). */
function useKeyNames(): Map<string, string> | null {
  const { can } = useSession();
  const allowed = can('admin');
  const [names, setNames] = useState<Map<string, string> | null>(null);
  useEffect(() => {
    if (!allowed) return;
    listAll<{ id: string; name: string }>('/api/v1/api-keys').then((keys) => setNames(new Map(keys.map((k) => [k.id, k.name]))), () => setNames(null));
  }, [allowed]);
  return names;
}

function MappingDetail(props: { id: string }) {
  const base = `/api/v1/mappings/${encodeURIComponent(props.id)}`;
  const mapping = useApi<Mapping>(base);
  const versions = useApi<{ data: Version[] }>(`${base}/versions`);
  const keyNames = useKeyNames();
  const [selected, setSelected] = useState<number | null>(null);
  const [restored, setRestored] = useState<{ from: number; to: number } | null>(null);
  const latest = mapping.data?.version ?? null;
  const shown = selected ?? latest;
  const version = useApi<Mapping>(shown !== null && shown !== latest ? `${base}/versions/${shown}` : null);
  const rules = shown === latest ? mapping : version;

  const restore = useAction(async (v: number) => {
    const saved = await api<Mapping>(`${base}/versions/${v}/restore`, { method: 'POST' });
    setRestored({ from: v, to: saved.version });
    setSelected(null);
    mapping.reload();
    versions.reload();
  });

  const m = mapping.data;
  return (
    <Page title={m ? m.name : 'Mapping'} description={m ? (m.description ?? <>Mapping set <span class="mono">{m.id}</span></>) : undefined}>
      {restore.error ? <ProblemMessage error={restore.error} action="restore the version" /> : null}
      {restored && <Notice tone="good">Version {restored.from} restored as version {restored.to}: jobs that follow the latest version use it from their next run.</Notice>}
      <Resource fetched={mapping} label="Loading the mapping set…">
        {(data) => (
          <Section title="Details">
            <KeyValues items={[
              ['Latest version', String(data.version)],
              ['Rules', String(data.rules.length)],
              ['Pack of the latest version', data.pack ? <code>{data.pack}</code> : <span class="muted">None</span>],
              ['Created', <Time value={data.created_at} />],
              ['Updated', <Time value={data.updated_at} />],
              ['Id', <span class="mono">{data.id}</span>],
            ]} />
          </Section>
        )}
      </Resource>
      <Section title="Versions">
        <Resource fetched={versions} label="Loading versions…" empty={(d) => d.data.length === 0} emptyText="No versions.">
          {(d) => (
            <Table caption="Versions, newest first" head={['Version', 'Published by', 'Time', 'Message', 'Jobs pinned to it', '']}>
              {d.data.map((v) => (
                <tr key={v.version} class={v.version === shown ? 'selected' : undefined}>
                  <td class="num">{v.version}{v.version === latest && <> <Badge value="active" label="latest" /></>}</td>
                  <td>{v.created_by ? (keyNames?.get(v.created_by) ?? <span class="mono">{v.created_by}</span>) : <span class="muted">—</span>}</td>
                  <td class="nowrap"><Time value={v.created_at} /></td>
                  <td>
                    {v.message && <span class="version-message">{v.message}</span>}
                    {v.restored_from ? <span class="muted small">Restored from version {v.restored_from}</span> : v.pack ? <span class="muted small">From the <code>{v.pack}</code> pack</span> : null}
                    {!v.message && !v.restored_from && !v.pack && <span class="muted">—</span>}
                  </td>
                  <td>{v.pinned_jobs?.length ? v.pinned_jobs.map((j) => <a key={j.id} class="pinned" href={`/jobs/${j.id}`}>{j.name}</a>) : <span class="muted">—</span>}</td>
                  <td>
                    <div class="row-actions">
                      <button type="button" class="secondary small-button" aria-pressed={v.version === shown} onClick={() => setSelected(v.version)}>
                        {v.version === shown ? 'Shown' : 'Show rules'}<span class="visually-hidden"> of version {v.version}</span>
                      </button>
                      {v.version !== latest && (
                        <IfAllowed scope="config:write">
                          <button type="button" class="secondary small-button" disabled={restore.busy} onClick={() => { void restore.run(v.version); }}>
                            Restore<span class="visually-hidden"> version {v.version}</span>
                          </button>
                        </IfAllowed>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Resource>
      </Section>
      <Section title={shown !== null ? `Rules (version ${shown})` : 'Rules'}>
        {/* The rule editor (with a live preview on collected data) goes here; this view is read-only. */}
        <div class="rules-view">
          <p class="muted section-intro">
            Read-only. Publish a new version with <code>PUT /api/v1/mappings/{props.id}</code>; an editor with a live preview will come to this page.
          </p>
          <Resource fetched={rules} label="Loading rules…" empty={(d) => d.rules.length === 0} emptyText="This version has no rules.">
            {(d) => (
              <>
                <RuleSummary rules={d.rules} />
                {d.source
                  ? <pre class="json rules-source" tabIndex={0} aria-label={`Rules of version ${d.version} as written (${d.source_format ?? 'text'})`}>{d.source}</pre>
                  : <Json value={d.rules} label={`Rules of version ${d.version} as JSON`} />}
              </>
            )}
          </Resource>
        </div>
      </Section>
    </Page>
  );
}

const text = (value: unknown) => (typeof value === 'string' && value ? value : <span class="muted">—</span>);

/** One line per rule: what it evidences, before the full JSON. */
function RuleSummary(props: { rules: Rule[] }) {
  if (props.rules.length === 0) return <Empty>No rules.</Empty>;
  return (
    <Table caption="Rules" head={['Rule', 'Dataset', 'Control', 'Question', 'What it checks', 'Enabled']}>
      {props.rules.map((r, i) => (
        <tr key={r.id ?? i}>
          <td class="mono">{r.id ?? `#${i + 1}`}</td>
          <td class="mono small">{text(r.dataset)}</td>
          <td>{text(r.control_ref)}</td>
          <td>{text(r.question_match ?? r.question_id)}</td>
          <td>{text(r.description ?? r.title)}</td>
          <td>{r.enabled === false ? <Badge value="disabled" /> : <Badge value="enabled" label="yes" />}</td>
        </tr>
      ))}
    </Table>
  );
}
