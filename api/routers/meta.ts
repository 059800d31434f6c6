import type { RouteSpec, JsonSchema } from '../route.js';
import { principalOf } from '../auth.js';
import { renderDocsPage } from '../docs-page.js';

/** Routes about the API itself. The document is built lazily from the final route list. */
export function metaRoutes(document: () => Record<string, unknown>): RouteSpec[] {
  return [
    {
      method: 'get', path: '/api/v1/openapi.json', operationId: 'openapi', tag: 'meta', auth: 'public',
      summary: 'This API as an OpenAPI 3.1 document.',
      responses: { 200: { description: 'The document.', schema: { type: 'object', required: ['openapi', 'info', 'paths'] } } },
      handler: (_req, res) => { res.json(document()); },
    },
    {
      method: 'get', path: '/docs', operationId: 'docs', tag: 'meta', auth: 'public',
      summary: 'Human-readable API reference.',
      responses: { 200: { description: 'An HTML page.', contentType: 'text/html', schema: { type: 'string' } } },
      handler: (_req, res) => { res.type('html').send(renderDocsPage(document() as Parameters<typeof renderDocsPage>[0])); },
    },
    {
      method: 'get', path: '/api/v1/me', operationId: 'whoAmI', tag: 'meta', auth: 'authenticated',
      summary: 'The calling key: its id, name, workspace and scopes (a cheap way to test a connection).',
      responses: { 200: { description: 'The caller.', schema: { type: 'object', required: ['key_id', 'name', 'workspace_id', 'scopes'], properties: { key_id: { type: 'string' }, name: { type: 'string' }, workspace_id: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } } } } as JsonSchema } },
      handler: (_req, res) => {
        const p = principalOf(res);
        res.json({ key_id: p.keyId, name: p.keyName, workspace_id: p.workspaceId, scopes: p.scopes });
      },
    },
  ];
}
