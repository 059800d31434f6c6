import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { WorkspaceStore } from '../../store/workspaces.js';
import { audited, type AuditDeps } from '../audit.js';
import { exact, linksTo, listOf, name, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { createKeyBody, createdKey, issueKey } from './api-keys.js';

const workspaceView: JsonSchema = exact({ id: { type: 'string' }, name: { type: 'string' }, created_at: timestamp });

export function workspaceRoutes(deps: AuditDeps & { workspaces: WorkspaceStore }): RouteSpec[] {
  const mustExist = async (id: string) => {
    const workspace = await deps.workspaces.get(id);
    if (!workspace) throw HubError.notFound('No workspace with this id.');
    return workspace;
  };
  return [
    {
      method: 'post', path: '/api/v1/workspaces', operationId: 'createWorkspace', tag: 'workspaces', auth: 'workspaces:admin', idempotent: true,
      summary: 'Create a workspace (a tenant: its resources are invisible to other workspaces).',
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name } },
      responses: { 201: { description: 'Created.', schema: workspaceView, headers: { Location: 'The new workspace.' }, links: linksTo(['getWorkspace', 'createWorkspaceApiKey']) } },
      handler: async (req, res) => {
        // The first entry of the new workspace's own chain: its admins can see who created it.
        const workspace = await audited(deps, req, res,
          (tx) => new WorkspaceStore(tx).create((req.body as { name: string }).name),
          (created) => ({ workspaceId: created.id, action: 'workspace.created', resourceType: 'workspace', resourceId: created.id, changes: { name: created.name } }));
        res.status(201).location(`/api/v1/workspaces/${workspace.id}`).json(workspace);
      },
    },
    {
      method: 'get', path: '/api/v1/workspaces', operationId: 'listWorkspaces', tag: 'workspaces', auth: 'workspaces:admin',
      summary: 'List workspaces.', query: pageQuery,
      responses: { 200: { description: 'A page of workspaces.', schema: listOf(workspaceView) } },
      handler: async (_req, res) => { res.json(await deps.workspaces.list(pageRequest(res))); },
    },
    {
      method: 'get', path: '/api/v1/workspaces/:id', operationId: 'getWorkspace', tag: 'workspaces', auth: 'workspaces:admin',
      summary: 'Get a workspace.',
      responses: { 200: { description: 'The workspace.', schema: workspaceView } },
      handler: async (req, res) => { res.json(await mustExist(String(req.params.id))); },
    },
    {
      method: 'post', path: '/api/v1/workspaces/:id/api-keys', operationId: 'createWorkspaceApiKey', tag: 'workspaces', auth: 'workspaces:admin', idempotent: true,
      summary: 'Issue an API key in another workspace (for example its first admin key).',
      body: createKeyBody,
      responses: { 201: { description: 'Created; the key is shown once.', schema: createdKey, headers: { Location: 'The new key.' } } },
      problems: { 403: 'A key cannot grant scopes its creator does not hold.' },
      handler: async (req, res) => {
        const workspace = await mustExist(String(req.params.id));
        await issueKey(req, res, deps, workspace.id);
      },
    },
  ];
}
