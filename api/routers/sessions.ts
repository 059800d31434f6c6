import type { Request, Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { audited, type AuditDeps } from '../audit.js';
import { principalOf, type Authenticator, type Principal } from '../auth.js';
import type { ConsoleSessions, SessionLocals } from '../console-session.js';
import { exact, timestamp } from '../schemas.js';

export interface SessionDeps extends AuditDeps {
  sessions: ConsoleSessions;
  authenticator: Authenticator;
  publicUrl: string | null;
  /** Where the console links a run's workflow (HUB_TEMPORAL_UI_URL, else the embedded server's UI). */
  temporalUiUrl: string | null;
  temporalNamespace: string;
}

const sessionView: JsonSchema = exact({
  csrf_token: { type: 'string', description: 'Send it as X-CSRF-Token with every state-changing request made with the session cookie.' },
  expires_at: { ...timestamp, description: 'When the session ends unless it is used again (it stays open while in use).' },
  idle_timeout_seconds: { type: 'integer', minimum: 1 },
  key: exact({ id: { type: 'string' }, name: { type: 'string' }, workspace_id: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } } }),
  workspace_id: { type: 'string', description: 'The workspace the request acted in (X-Workspace-Id for a workspaces:admin key).' },
  temporal_ui_url: { type: ['string', 'null'], description: 'The Temporal UI, for links to run workflows.' },
  temporal_namespace: { type: 'string' },
});

/**
 * Console sign-in: an API key exchanged for a sealed, HttpOnly session cookie (see
 * api/console-session.ts); the session read back by the console's pages; sign-out.
 */
export function sessionRoutes(deps: SessionDeps): RouteSpec[] {
  const view = (principal: Principal, session: SessionLocals) => ({
    csrf_token: session.csrfToken,
    expires_at: session.expiresAt.toISOString(),
    idle_timeout_seconds: Math.round(deps.sessions.idleMs / 1000),
    key: { id: principal.keyId, name: principal.keyName, workspace_id: principal.homeWorkspaceId ?? principal.workspaceId, scopes: principal.scopes },
    workspace_id: principal.workspaceId,
    temporal_ui_url: deps.temporalUiUrl,
    temporal_namespace: deps.temporalNamespace,
  });
  const current = (res: Response): SessionLocals => {
    const session = res.locals.session as SessionLocals | undefined;
    if (!session) throw HubError.notFound('This request carries no console session (it was made with an API key).');
    return session;
  };
  const endRequestSession = async (req: Request, res: Response) => {
    const session = current(res);
    await audited(deps, req, res, (tx) => deps.sessions.end(session.id, tx),
      () => ({ action: 'console_session.ended', resourceType: 'console_session', resourceId: session.id, changes: { reason: 'signed_out' } }));
    deps.sessions.clearCookie(req, res, deps.publicUrl);
  };

  return [
    {
      method: 'post', path: '/api/v1/sessions', operationId: 'signIn', tag: 'console', auth: 'public',
      summary: 'Console sign-in: exchanges an API key for a session cookie (HttpOnly, SameSite=Strict, sealed).',
      description: 'The answer sets the cookie and gives the CSRF token that state-changing requests made with it must carry. The key is re-checked on every request: revoking it ends the session.',
      body: { type: 'object', additionalProperties: false, required: ['api_key'], properties: { api_key: { type: 'string', minLength: 1, maxLength: 200, description: 'An API key (ehk_…).' } } },
      responses: { 201: { description: 'Signed in; Set-Cookie carries the session.', schema: sessionView, headers: { 'Set-Cookie': 'The session cookie.' } } },
      problems: { 401: 'The key is unknown, mistyped or revoked.' },
      handler: async (req, res) => {
        const presented = (req.body as { api_key: string }).api_key.trim();
        const key = await deps.authenticator.lookup(presented);
        if (!key) throw HubError.unauthorized('That API key is unknown, mistyped or revoked.');
        const principal: Principal = { keyId: key.id, keyName: key.name, workspaceId: key.workspace_id, scopes: key.scopes };
        res.locals.principal = principal;
        const id = newId('sess');
        const session = await audited(deps, req, res,
          (tx) => deps.sessions.create(tx, { id, workspaceId: key.workspace_id, keyId: key.id, ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null }),
          () => ({ action: 'console_session.created', resourceType: 'console_session', resourceId: id, changes: { key_id: key.id } }));
        deps.sessions.setCookie(req, res, deps.sessions.seal(session.id, presented), deps.publicUrl);
        res.setHeader('Cache-Control', 'no-store');
        res.status(201).json(view(principal, { id, csrfToken: deps.sessions.csrfToken(id), expiresAt: deps.sessions.expiresAt(session) }));
      },
    },
    {
      method: 'get', path: '/api/v1/sessions/current', operationId: 'getSession', tag: 'console', auth: 'authenticated',
      summary: 'The console session of this request: its key, scopes, CSRF token and expiry.',
      responses: { 200: { description: 'The session.', schema: sessionView } },
      problems: { 404: 'The request was made with an API key, not a console session.' },
      handler: (_req, res) => {
        res.setHeader('Cache-Control', 'no-store');
        res.json(view(principalOf(res), current(res)));
      },
    },
    {
      method: 'delete', path: '/api/v1/sessions/current', operationId: 'signOut', tag: 'console', auth: 'authenticated',
      summary: 'Sign out: ends the console session on the server and clears its cookie.',
      responses: { 204: { description: 'Signed out; the cookie no longer works anywhere.' } },
      problems: { 404: 'The request was made with an API key, not a console session.' },
      handler: async (req, res) => {
        await endRequestSession(req, res);
        res.status(204).end();
      },
    },
  ];
}
