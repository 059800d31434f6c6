import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { NeedsScope } from '../app.js';
import { useSession } from '../session.js';
import { Badge, Checkbox, MoreButton, Page, ProblemMessage, Resource, Section, ShownOnce, Table, TextInput, Time, useAction, usePaged, type FormEvent } from '../ui.js';
import './api-keys.css';

/** API keys: who may call the hub with which scopes; a new key is shown once, a revoked one stops at once. */

interface ApiKey {
  id: string; workspace_id: string; name: string; prefix: string; scopes: string[];
  created_at: string; last_used_at: string | null; revoked_at: string | null;
}

const SCOPES: { scope: string; explains: string }[] = [
  { scope: 'admin', explains: 'Everything below, plus managing API keys and audit log retention.' },
  { scope: 'config:read', explains: 'See connections, destinations, jobs, mappings and webhooks (never stored secrets).' },
  { scope: 'config:write', explains: 'Create, change and delete connections, destinations, jobs, mappings, webhooks and exceptions.' },
  { scope: 'runs:read', explains: 'See runs, collections, snapshots and diagnostics.' },
  { scope: 'runs:write', explains: 'Start and cancel runs, collections and diagnostics.' },
  { scope: 'evidence:read', explains: 'Read the evidence ledger with its payloads, posture, checks, frameworks and exceptions.' },
  { scope: 'evidence:write', explains: 'Push evidence to destinations over the API.' },
  { scope: 'audit:read', explains: 'Read and verify the audit log.' },
  { scope: 'events:subscribe', explains: 'Subscribe Power Automate flow triggers to hub events, and unsubscribe them.' },
];

export function ApiKeysPage() {
  return <NeedsScope scope="admin" title="API keys"><ApiKeys /></NeedsScope>;
}

function ApiKeys() {
  const keys = usePaged<ApiKey>('/api/v1/api-keys');
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  return (
    <Page title="API keys" description="Keys call the API and sign in to this console. Give each integration its own key with the fewest scopes it needs; revoke it when it is no longer used.">
      {created && (
        <ShownOnce label={`API key “${created.name}”`} value={created.key}>
          <p>Send it in the header <code>Authorization: Bearer ehk_…</code>, or sign in to this console with it. Only its hash is stored: if it is lost, create another and revoke this one.</p>
        </ShownOnce>
      )}
      <Section title="Keys">
        <Resource fetched={keys} label="Loading API keys…" empty={(rows) => rows.length === 0} emptyText="This workspace has no API keys yet.">
          {(rows) => (
            <>
              <Table caption="API keys" head={['Name', 'Prefix', 'Scopes', 'Created', 'Last used', 'Status', '']}>
                {rows.map((key) => <KeyRow key={key.id} apiKey={key} onRevoked={keys.reload} />)}
              </Table>
              <MoreButton more={keys.more} loading={keys.loadingMore} />
            </>
          )}
        </Resource>
      </Section>
      <Section title="Create a key">
        <CreateKey onCreated={(k) => { setCreated(k); keys.reload(); window.scrollTo({ top: 0 }); }} />
      </Section>
    </Page>
  );
}

function KeyRow(props: { apiKey: ApiKey; onRevoked: () => void }) {
  const k = props.apiKey;
  const { session } = useSession();
  const [confirming, setConfirming] = useState(false);
  const revoke = useAction(async () => {
    await api(`/api/v1/api-keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
    setConfirming(false);
    props.onRevoked();
  });
  const self = k.id === session.key.id;
  return (
    <>
      <tr class={k.revoked_at ? 'revoked' : undefined}>
        <td>{k.name}{self && <span class="muted small"> (you are signed in with it)</span>}</td>
        <td><code>{k.prefix}…</code></td>
        <td><span class="scope-list">{k.scopes.map((s) => <code key={s} class="chip">{s}</code>)}</span></td>
        <td class="nowrap"><Time value={k.created_at} /></td>
        <td class="nowrap"><Time value={k.last_used_at} empty="Never" /></td>
        <td>{k.revoked_at ? <><Badge value="revoked" /> <span class="muted small nowrap"><Time value={k.revoked_at} /></span></> : <Badge value="active" label="live" />}</td>
        <td>
          {!k.revoked_at && !confirming && (
            <button type="button" class="danger small-button" aria-expanded={false} onClick={() => setConfirming(true)}>Revoke<span class="visually-hidden"> {k.name}</span></button>
          )}
        </td>
      </tr>
      {(confirming || revoke.error) && (
        <tr class="detail-row">
          <td colSpan={7}>
            <div class="detail-fit">
              {revoke.error ? <ProblemMessage error={revoke.error} action={`revoke “${k.name}”`} /> : null}
              {confirming && (
                <div class="confirm" role="group" aria-label={`Revoke ${k.name}?`}>
                  <p><strong>Revoke “{k.name}” ({k.prefix}…)?</strong> Every call made with it fails from now on, and its console sessions end.{' '}
                    {self && <strong class="reason">This is the key you are signed in with: the console signs out.</strong>}</p>
                  <div class="actions">
                    <button type="button" class="danger" onClick={() => { void revoke.run(); }} disabled={revoke.busy}>{revoke.busy ? 'Revoking…' : `Revoke “${k.name}”`}</button>
                    <button type="button" class="secondary" onClick={() => { setConfirming(false); revoke.clear(); }}>Keep it</button>
                  </div>
                </div>
              )}
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

function CreateKey(props: { onCreated: (key: ApiKey & { key: string }) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [tried, setTried] = useState(false);
  const create = useAction(async () => {
    const key = await api<ApiKey & { key: string }>('/api/v1/api-keys', { method: 'POST', body: { name: name.trim(), scopes } });
    setName(''); setScopes([]); setTried(false);
    props.onCreated(key);
  });
  const err = create.error instanceof ApiError ? create.error : null;
  const scopeError = err?.fieldError('/scopes') ?? (tried && scopes.length === 0 ? 'Choose at least one scope.' : undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (!name.trim() || scopes.length === 0) return;
    void create.run();
  };
  const toggle = (scope: string, on: boolean) => setScopes((s) => (on ? [...s, scope] : s.filter((x) => x !== scope)));
  return (
    <form class="stack" onSubmit={submit} noValidate>
      <TextInput label="Name" value={name} onInput={setName} required placeholder="ci-pipeline, power-automate, grafana…"
        hint="Say who or what uses the key: it appears in the audit log with every change it makes."
        error={err?.fieldError('/name') ?? (tried && !name.trim() ? 'Give the key a name.' : undefined)} />
      <fieldset class={`field${scopeError ? ' has-error' : ''}`}>
        <legend>Scopes</legend>
        <div class="scope-choices">
          {SCOPES.map(({ scope, explains }) => (
            <Checkbox key={scope} label={scope} checked={scopes.includes(scope)} onChange={(on) => toggle(scope, on)} hint={explains} />
          ))}
        </div>
        {scopeError && <p class="field-error">{scopeError}</p>}
      </fieldset>
      {create.error && !err?.fieldError('/name') && !err?.fieldError('/scopes') ? <ProblemMessage error={create.error} action="create the key" /> : null}
      <div class="actions"><button type="submit" disabled={create.busy}>{create.busy ? 'Creating…' : 'Create key'}</button></div>
    </form>
  );
}
