import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleSessions } from '../../api/console-session.js';
import { ConsoleSessionStore } from '../../store/console-sessions.js';
import { caller, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';

/** A browser's view of one console session: the cookie it holds and the CSRF token the page got. */
interface Browser { cookie: string; csrf: string; setCookie: string; body: Record<string, any> } // eslint-disable-line @typescript-eslint/no-explicit-any

async function signIn(t: TestHub, apiKey: string, headers: Record<string, string> = {}): Promise<Browser> {
  const res = await fetch(`${t.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ api_key: apiKey }) });
  expect(res.status, await res.clone().text()).toBe(201);
  const setCookie = res.headers.get('set-cookie')!;
  const body = await res.json() as Browser['body'];
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrf_token as string, setCookie, body };
}

describe('console sessions: an API key exchanged for a sealed cookie, re-checked on every request', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); });
  afterAll(async () => { await t?.stop(); });

  const as = (browser: Browser) => (method: string, path: string, options: { json?: unknown; csrf?: string | null; headers?: Record<string, string> } = {}) =>
    caller(t.url, null)(method, path, {
      json: options.json,
      headers: { cookie: browser.cookie, ...(options.csrf === null ? {} : { 'x-csrf-token': options.csrf ?? browser.csrf }), ...options.headers },
    });

  it('sets an HttpOnly, SameSite=Strict cookie that holds neither the key nor anything readable', async () => {
    const browser = await signIn(t, t.adminKey);
    expect(browser.setCookie).toMatch(/^eh_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(browser.setCookie).not.toContain('Secure'); // served over http here
    expect(browser.cookie).not.toContain(t.adminKey.slice(4, 20));
    expect(Buffer.from(browser.cookie.split('=')[1]!, 'base64url').toString('latin1')).not.toContain('ehk_');
    expect(browser.body).toMatchObject({ key: { name: expect.any(String), scopes: ['admin', 'workspaces:admin'], workspace_id: 'default' }, workspace_id: 'default', idle_timeout_seconds: 8 * 3600 });
    expect(JSON.stringify(browser.body)).not.toContain(t.adminKey);

    const me = await as(browser)('GET', '/api/v1/me', { csrf: null });
    expect(me.status).toBe(200);
    expect(me.body.scopes).toEqual(['admin', 'workspaces:admin']);
    const current = await as(browser)('GET', '/api/v1/sessions/current', { csrf: null });
    expect(current.body.csrf_token).toBe(browser.csrf);
    expect(current.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses a wrong key with 401 and a foreign page signing a browser in with 403', async () => {
    const wrong = await caller(t.url, null)('POST', '/api/v1/sessions', { json: { api_key: 'ehk_not-a-key' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const foreign = await caller(t.url, null)('POST', '/api/v1/sessions', { json: { api_key: t.adminKey }, headers: { origin: 'http://127.0.0.1:1' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('set-cookie')).toBeNull();
  });

  it('needs the CSRF token for every change made with the cookie, and refuses other origins', async () => {
    const browser = await signIn(t, t.adminKey);
    const call = as(browser);
    const body = { name: 'made with the cookie', scopes: ['runs:read'] };
    const without = await call('POST', '/api/v1/api-keys', { json: body, csrf: null });
    expect(without.status).toBe(403);
    expect(without.body.type).toMatch(/csrf-failed$/);
    const wrong = await call('POST', '/api/v1/api-keys', { json: body, csrf: browser.csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    expect(wrong.status).toBe(403);
    const otherSession = await signIn(t, t.adminKey);
    expect((await call('POST', '/api/v1/api-keys', { json: body, csrf: otherSession.csrf })).status).toBe(403);
    const foreign = await call('POST', '/api/v1/api-keys', { json: body, headers: { origin: 'http://127.0.0.1:1' } });
    expect(foreign.status).toBe(403);
    // Nothing was created by the refused requests.
    const keys = await t.call('GET', '/api/v1/api-keys?limit=500');
    expect(keys.body.data.filter((k: { name: string }) => k.name === body.name)).toHaveLength(0);

    const ok = await call('POST', '/api/v1/api-keys', { json: body, headers: { origin: t.url } });
    expect(ok.status, ok.text).toBe(201);
    // An API key in a header is not a cookie: it needs no CSRF token.
    expect((await t.call('POST', '/api/v1/api-keys', { json: { ...body, name: 'with the key' } })).status).toBe(201);
  });

  it('sign-out ends the session on the server: the same cookie no longer works', async () => {
    const browser = await signIn(t, t.adminKey);
    const call = as(browser);
    expect((await call('GET', '/api/v1/jobs', { csrf: null })).status).toBe(200);
    const out = await call('DELETE', '/api/v1/sessions/current');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^eh_session=; .*Max-Age=0/);
    const after = await call('GET', '/api/v1/jobs', { csrf: null });
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/console session has ended/);
    const audit = await t.call('GET', '/api/v1/audit-log?limit=20');
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['console_session.created', 'console_session.ended']));
  });

  it('revoking the key ends its console sessions at the next request; a runs:read key gets 403 naming the scope', async () => {
    const created = await t.call('POST', '/api/v1/api-keys', { json: { name: 'reader', scopes: ['runs:read'] } });
    const browser = await signIn(t, created.body.key);
    const call = as(browser);
    expect((await call('GET', '/api/v1/runs', { csrf: null })).status).toBe(200);
    const write = await call('POST', '/api/v1/connections', { json: { name: 'x', type: 'okta', config: {}, secrets: {} } });
    expect(write.status).toBe(403);
    expect(write.body.missing_scopes).toEqual(['config:write']);
    expect(write.body.detail).toContain('config:write');

    expect((await t.call('DELETE', `/api/v1/api-keys/${created.body.id}`)).status).toBe(204);
    expect((await call('GET', '/api/v1/runs', { csrf: null })).status).toBe(401);
  });

  it('a tampered or foreign cookie is unauthenticated, and cleared', async () => {
    const browser = await signIn(t, t.adminKey);
    const value = browser.cookie.split('=')[1]!;
    const flipped = value.slice(0, 20) + (value[20] === 'A' ? 'B' : 'A') + value.slice(21);
    for (const cookie of [`eh_session=${flipped}`, 'eh_session=garbage', `eh_session=${'A'.repeat(5000)}`]) {
      const res = await caller(t.url, null)('GET', '/api/v1/me', { headers: { cookie } });
      expect(res.status).toBe(401);
      expect(res.body.type).toMatch(/unauthorized$/);
      expect(res.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    }
  });

  it('the bootstrap key acts in another workspace with X-Workspace-Id, audited with its own workspace; other keys cannot', async () => {
    const other = await newWorkspace(t, 'subsidiary');
    const made = await other.call('POST', '/api/v1/webhooks', { json: { url: 'https://example.com/hook', events: ['run.completed'] } });
    expect(made.status, made.text).toBe(201);
    const browser = await signIn(t, t.adminKey);
    const inOther = await as(browser)('GET', '/api/v1/webhooks', { csrf: null, headers: { 'x-workspace-id': other.id } });
    expect(inOther.status).toBe(200);
    expect(inOther.body.data.map((w: { id: string }) => w.id)).toEqual([made.body.id]);
    const session = await as(browser)('GET', '/api/v1/sessions/current', { csrf: null, headers: { 'x-workspace-id': other.id } });
    expect(session.body).toMatchObject({ workspace_id: other.id, key: { workspace_id: 'default' } });

    const created = await t.call('POST', '/api/v1/api-keys', { json: { name: 'made from default' }, headers: { 'x-workspace-id': other.id } });
    expect(created.status).toBe(400); // scopes missing: the request reached the route in the other workspace
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'made from default', scopes: ['runs:read'] }, headers: { 'x-workspace-id': other.id } });
    expect(key.status).toBe(201);
    expect(key.body.workspace_id).toBe(other.id);
    const entries = await other.call('GET', '/api/v1/audit-log?action=api_key.created&limit=10');
    const entry = entries.body.data.find((e: { resource_id: string }) => e.resource_id === key.body.id);
    expect(entry.actor).toMatchObject({ type: 'api_key', workspace_id: 'default' });

    // A workspace admin of the other workspace cannot reach the default one, nor a made-up one.
    const refused = await other.call('GET', '/api/v1/webhooks', { headers: { 'x-workspace-id': 'default' } });
    expect(refused.status).toBe(403);
    expect(refused.body.missing_scopes).toEqual(['workspaces:admin']);
    const unknown = await t.call('GET', '/api/v1/webhooks', { headers: { 'x-workspace-id': 'ws_nope' } });
    expect(unknown.status).toBe(400);
  });

  it('an idle session expires after HUB_CONSOLE_SESSION_IDLE, and use keeps it open', async () => {
    let now = Date.now();
    const sessions = new ConsoleSessions(Buffer.alloc(32, 7), new ConsoleSessionStore(t.hub.db), 60_000, () => now);
    const row = await sessions.create(t.hub.db, { id: `sess_idle_${now}`, workspaceId: 'default', keyId: 'key_x', ip: null, userAgent: null });
    now += 50_000;
    expect(await sessions.open(row.id)).not.toBeNull();
    now += 50_000; // 100 s after sign-in, but 50 s after it was last used
    expect(await sessions.open(row.id)).not.toBeNull();
    now += 61_000;
    expect(await sessions.open(row.id)).toBeNull();
    expect((await new ConsoleSessionStore(t.hub.db).get(row.id))!.ended_at).not.toBeNull();
  });
});


describe('console sessions behind https', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub({ env: { HUB_PUBLIC_URL: 'https://hub.example.com' } }); });
  afterAll(async () => { await t?.stop(); });

  it('sets a Secure, __Host- prefixed cookie and accepts changes from the public origin', async () => {
    const browser = await signIn(t, t.adminKey, { origin: 'https://hub.example.com' });
    expect(browser.setCookie).toMatch(/^__Host-eh_session=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    const call = (origin: string) => caller(t.url, null)('POST', '/api/v1/api-keys', {
      json: { name: `from ${origin}`, scopes: ['runs:read'] }, headers: { cookie: browser.cookie, 'x-csrf-token': browser.csrf, origin },
    });
    expect((await call('https://hub.example.com')).status).toBe(201);
    expect((await call('http://hub.example.com')).status).toBe(403); // another scheme is another origin
  });
});
