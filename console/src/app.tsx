import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, ApiError, listAll, setActingWorkspace, setCsrfToken, whenSignedOut, actingWorkspaceId } from './api.js';
import { match, navigate, useLocation } from './router.js';
import { hasScope, SessionContext, useSession, type SessionContextValue, type SessionInfo } from './session.js';
import { Loading, Page, ProblemMessage } from './ui.js';
import { SignIn } from './pages/sign-in.js';
import { routes } from './routes.js';

const NAV: { href: string; label: string; section: string }[] = [
  { href: '/', label: 'Posture', section: '' },
  { href: '/connections', label: 'Connections', section: 'connections' },
  { href: '/jobs', label: 'Jobs', section: 'jobs' },
  { href: '/runs', label: 'Runs', section: 'runs' },
  { href: '/mappings', label: 'Mappings', section: 'mappings' },
  { href: '/webhooks', label: 'Webhooks', section: 'webhooks' },
  { href: '/audit-log', label: 'Audit log', section: 'audit-log' },
  { href: '/api-keys', label: 'API keys', section: 'api-keys' },
];

/** Which nav section a path belongs to (evidence and checks live under Posture and Runs). */
function sectionOf(path: string): string {
  const first = path.split('/').filter(Boolean)[0] ?? '';
  if (first === 'destinations') return 'connections';
  if (first === 'evidence') return 'runs';
  if (first === 'checks' || first === 'frameworks') return '';
  return first;
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);

  useEffect(() => {
    whenSignedOut((reason) => { setCsrfToken(null); setSession(null); setSignedOutReason(reason); });
    api<SessionInfo>('/api/v1/sessions/current', { expectUnauthorized: true })
      .then((s) => { setCsrfToken(s.csrf_token); setSession(s); })
      .catch(() => setSession(null));
  }, []);

  if (session === undefined) return <div class="boot-screen"><Loading label="Opening the console…" /></div>;
  if (session === null) {
    return <SignIn reason={signedOutReason} onSignedIn={(s) => { setCsrfToken(s.csrf_token); setSignedOutReason(null); setSession(s); }} />;
  }
  return <SignedIn session={session} onSignedOut={() => { setCsrfToken(null); setActingWorkspace(null); setSession(null); }} onSession={setSession} />;
}

function SignedIn(props: { session: SessionInfo; onSignedOut: () => void; onSession: (s: SessionInfo) => void }) {
  const { session } = props;
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  const value = useMemo<SessionContextValue>(() => ({
    session,
    can: (scope) => hasScope(session.key.scopes, scope),
    signOut: async () => {
      try { await api('/api/v1/sessions/current', { method: 'DELETE' }); } catch (err) { if (!(err instanceof ApiError && err.status === 401)) throw err; }
      props.onSignedOut();
      navigate('/', { replace: true });
    },
    switchWorkspace: (id) => {
      setActingWorkspace(id === session.key.workspace_id ? null : id);
      api<SessionInfo>('/api/v1/sessions/current').then(props.onSession, () => undefined);
      navigate('/');
    },
  }), [session]);
  useEffect(() => { setMenuOpen(false); }, [location.path]);

  const current = sectionOf(location.path);
  return (
    <SessionContext.Provider value={value}>
      <a class="skip-link" href="#main">Skip to content</a>
      <div class="layout">
        <header class="topbar">
          <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">✓</span> Evidence Hub</a>
          <button type="button" class="menu-button secondary" aria-expanded={menuOpen} aria-controls="primary-nav" onClick={() => setMenuOpen(!menuOpen)}>Menu</button>
          <div class="topbar-right">
            <WorkspaceSwitcher />
            <span class="who" title={`Key ${session.key.id}: ${session.key.scopes.join(', ')}`}>{session.key.name}</span>
            <button type="button" class="secondary" onClick={() => { void value.signOut(); }}>Sign out</button>
          </div>
        </header>
        <nav id="primary-nav" class={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}><a href={item.href} aria-current={current === item.section ? 'page' : undefined}>{item.label}</a></li>
            ))}
          </ul>
          <p class="sidebar-foot"><a href="/docs">API reference</a></p>
        </nav>
        <main id="main" class="content">
          <Routed path={location.path} />
        </main>
      </div>
    </SessionContext.Provider>
  );
}

function Routed(props: { path: string }) {
  for (const route of routes) {
    const params = match(route.path, props.path);
    if (params) {
      const Component = route.component;
      // A key'd element: a new id is a new page (its state and its fetches start over).
      return <Component key={props.path} {...params} />;
    }
  }
  return (
    <Page title="Page not found">
      <p>There is no console page at <code>{props.path}</code>. <a href="/">Go to Posture</a>.</p>
    </Page>
  );
}

/** The bootstrap key (workspaces:admin) acts in any workspace; every other key sees its own. */
function WorkspaceSwitcher() {
  const { session, can, switchWorkspace } = useSession();
  const [workspaces, setWorkspaces] = useState<{ id: string; name: string }[] | null>(null);
  const allowed = can('workspaces:admin');
  useEffect(() => {
    if (!allowed) return;
    listAll<{ id: string; name: string }>('/api/v1/workspaces').then(setWorkspaces, () => setWorkspaces(null));
  }, [allowed]);
  if (!allowed || !workspaces || workspaces.length < 2) return null;
  const acting = actingWorkspaceId() ?? session.key.workspace_id;
  return (
    <label class="workspace-switcher">
      <span class="visually-hidden">Workspace</span>
      <select value={acting} onChange={(e) => switchWorkspace((e.currentTarget as HTMLSelectElement).value)}>
        {workspaces.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
      </select>
    </label>
  );
}

/** Shows its children only to keys with the scope (the API enforces it either way). */
export function IfAllowed(props: { scope: string; children: ComponentChildren }) {
  const { can } = useSession();
  return can(props.scope) ? <>{props.children}</> : null;
}

/** A page the key cannot read at all: says which scope it needs instead of failing later. */
export function NeedsScope(props: { scope: string | string[]; title: string; children: ComponentChildren }) {
  const { can } = useSession();
  const scopes = Array.isArray(props.scope) ? props.scope : [props.scope];
  if (scopes.some(can)) return <>{props.children}</>;
  return (
    <Page title={props.title}>
      <ProblemMessage error={new ApiError({ status: 403, detail: `This API key lacks the scope this page needs: ${scopes.join(' or ')}.` })} />
    </Page>
  );
}
