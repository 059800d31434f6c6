import type { Request, Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { ALL_SCOPES, ApiKeyStore, WORKSPACE_SCOPES, type ApiKey, type Scope } from '../../store/api-keys.js';
import { audited, type AuditDeps } from '../audit.js';
import { hasScope, principalOf, type Authenticator } from '../auth.js';
import type { ConsoleSessions } from '../console-session.js';
import { exact, linksTo, listOf, name, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export const createKeyBody: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopes'],
  properties: {
    name,
    scopes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...ALL_SCOPES] } },
  },
};

const keyFields: Record<string, JsonSchema> = {
  id: { type: 'string' }, workspace_id: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string', description: 'The first characters of the key, to recognise it.' },
  scopes: { type: 'array', items: { enum: [...ALL_SCOPES] } }, created_at: timestamp, last_used_at: nullableTimestamp, revoked_at: nullableTimestamp,
};
const keyView: JsonSchema = exact(keyFields);
export const createdKey: JsonSchema = exact({ ...keyFields, key: { type: 'string', pattern: '^ehk_', description: 'The key itself. Shown once; only its hash is stored.' } });

export function viewKey(key: ApiKey) {
  const { is_bootstrap: _internal, ...view } = key;
  return view;
}

/**
 * Creates a key in `workspaceId` after checking the caller may grant those scopes; the entry
 * joins that workspace's chain (where the key lives) and never holds the key itself.
 */
export async function issueKey(req: Request, res: Response, deps: AuditDeps, workspaceId: string): Promise<void> {
  const caller = principalOf(res);
  const body = req.body as { name: string; scopes: Scope[] };
  const beyond = body.scopes.filter((scope) => !(WORKSPACE_SCOPES as readonly string[]).includes(scope) && !hasScope(caller, scope));
  if (beyond.length) throw HubError.forbidden(`A key cannot grant scopes its creator does not hold: ${beyond.join(', ')}.`);
  const { record, key } = await audited(deps, req, res,
    (tx) => new ApiKeyStore(tx).create({ workspaceId, name: body.name, scopes: body.scopes }),
    ({ record: created }) => ({
      workspaceId, action: 'api_key.created', resourceType: 'api_key', resourceId: created.id,
      changes: { name: created.name, scopes: created.scopes, prefix: created.prefix },
    }));
  res.status(201).location(`/api/v1/api-keys/${record.id}`).json({ ...viewKey(record), key });
}

export function apiKeyRoutes(deps: AuditDeps & { keys: ApiKeyStore; authenticator: Authenticator; sessions: ConsoleSessions }): RouteSpec[] {
  return [
    {
      method: 'post', path: '/api/v1/api-keys', operationId: 'createApiKey', tag: 'api-keys', auth: 'admin', idempotent: true,
      summary: 'Create an API key in the caller’s workspace. The key is in the response once.',
      body: createKeyBody,
      responses: { 201: { description: 'Created.', schema: createdKey, headers: { Location: 'The new key.' }, links: linksTo(['revokeApiKey']) } },
      problems: { 403: 'A key cannot grant scopes its creator does not hold.' },
      handler: (req, res) => issueKey(req, res, deps, principalOf(res).workspaceId),
    },
    {
      method: 'get', path: '/api/v1/api-keys', operationId: 'listApiKeys', tag: 'api-keys', auth: 'admin',
      summary: 'List the workspace’s API keys (never the keys themselves).',
      query: pageQuery,
      responses: { 200: { description: 'A page of keys.', schema: listOf(keyView) } },
      handler: async (_req, res) => {
        const page = await deps.keys.list(principalOf(res).workspaceId, pageRequest(res));
        res.json({ data: page.data.map(viewKey), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'delete', path: '/api/v1/api-keys/:id', operationId: 'revokeApiKey', tag: 'api-keys', auth: 'admin',
      summary: 'Revoke a key: it stops working at once.',
      responses: { 204: { description: 'Revoked.' } },
      handler: async (req, res) => {
        const id = String(req.params.id);
        await audited(deps, req, res,
          async (tx) => {
            if (!(await new ApiKeyStore(tx).revoke(principalOf(res).workspaceId, id))) throw HubError.notFound('No live API key with this id in this workspace.');
          },
          () => ({ action: 'api_key.revoked', resourceType: 'api_key', resourceId: id }));
        deps.authenticator.forget();
        // Its console sessions end with it (every process also re-checks the key on each request).
        await deps.sessions.endForKey(id);
        res.status(204).end();
      },
    },
  ];
}
