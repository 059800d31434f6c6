import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, listAll } from '../api.js';
import { navigate } from '../router.js';
import { useSession } from '../session.js';
import { IfAllowed, NeedsScope } from '../app.js';
import {
  Badge, Loading, MoreButton, Page, ProblemMessage, Resource, Section, Table, TextInput, Time, useAction, useApi, usePaged,
  type FormEvent,
} from '../ui.js';
import type * as StudioExports from './studio/studio.js';
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

type StudioModule = typeof StudioExports;

/** The studio (editor, preview, versions) is a chunk of its own, loaded when a mapping set is opened. */
function useStudioModule(): { module: StudioModule | null; error: unknown } {
  const [state, setState] = useState<{ module: StudioModule | null; error: unknown }>({ module: null, error: null });
  useEffect(() => {
    let live = true;
    import('./studio/studio.js').then((module) => { if (live) setState({ module, error: null }); }, (error: unknown) => { if (live) setState({ module: null, error }); });
    return () => { live = false; };
  }, []);
  return state;
}

function MappingDetail(props: { id: string }) {
  const base = `/api/v1/mappings/${encodeURIComponent(props.id)}`;
  const mapping = useApi<Mapping>(base);
  const keyNames = useKeyNames();
  const studio = useStudioModule();
  const m = mapping.data;
  return (
    <Page title={m ? m.name : 'Mapping'} description={m ? (m.description ?? <>Mapping set <span class="mono">{m.id}</span>{m.pack ? <> · from the <code>{m.pack}</code> pack</> : null}</>) : undefined}>
      <Resource fetched={mapping} label="Loading the mapping set…">
        {(data) => studio.error
          ? <ProblemMessage error={studio.error} action="load the editor" />
          : studio.module
            ? <studio.module.Studio key={data.id} mapping={data} keyNames={keyNames} onPublished={() => undefined} />
            : <Loading label="Loading the editor…" />}
      </Resource>
    </Page>
  );
}

