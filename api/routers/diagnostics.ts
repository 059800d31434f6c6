import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { DiagnosticStore } from '../../store/diagnostics.js';
import { workflowIds, type WorkflowStarter } from '../../temporal/starters.js';
import { audited, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, linksTo, nullableTimestamp, timestamp } from '../schemas.js';

const diagnosticView: JsonSchema = exact({
  id: { type: 'string' }, status: { type: 'string', enum: ['running', 'completed', 'failed'] }, workflow_id: { type: 'string' },
  message: { type: ['string', 'null'] }, worker_identity: { type: ['string', 'null'] }, created_at: timestamp, completed_at: nullableTimestamp,
});

function view(d: Awaited<ReturnType<DiagnosticStore['create']>>) {
  const { workspace_id: _ws, ...rest } = d;
  return rest;
}

export function diagnosticsRoutes(deps: AuditDeps & { diagnostics: DiagnosticStore; starter: WorkflowStarter }): RouteSpec[] {
  return [
    {
      method: 'post', path: '/api/v1/diagnostics', operationId: 'startDiagnostic', tag: 'diagnostics', auth: 'runs:write', idempotent: true,
      summary: 'Start a diagnostic round trip: API → Temporal → worker → database.',
      description: 'Poll the returned Location until `status` is `completed`; a diagnostic that stays `running` means no worker is polling the task queue.',
      responses: {
        202: {
          description: 'Started.', schema: diagnosticView, links: linksTo(['getDiagnostic']),
          headers: { Location: 'The diagnostic’s URL.', 'Retry-After': { description: 'Seconds before the first poll.', schema: { type: 'integer', minimum: 0 } } },
        },
      },
      problems: { 503: 'Temporal is not reachable; the diagnostic could not start and is recorded as failed (Retry-After).' },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const id = newId('diag');
        const workflowId = workflowIds.diagnostic(id);
        // Recorded with its row; the workflow starts after the commit (a failed start marks the row failed).
        const diagnostic = await audited(deps, req, res,
          (tx) => new DiagnosticStore(tx).create({ id, workspaceId, workflowId }),
          () => ({ action: 'diagnostic.started', resourceType: 'diagnostic', resourceId: id, changes: { workflow_id: workflowId } }));
        await deps.starter.diagnostic(id).catch(async (err: unknown) => {
          await deps.diagnostics.fail(id, 'Temporal was not reachable.');
          throw err;
        });
        res.status(202).location(`/api/v1/diagnostics/${id}`).setHeader('Retry-After', '1');
        res.json(view(diagnostic));
      },
    },
    {
      method: 'get', path: '/api/v1/diagnostics/:id', operationId: 'getDiagnostic', tag: 'diagnostics', auth: 'runs:read',
      summary: 'A diagnostic’s state.',
      responses: { 200: { description: 'The diagnostic.', schema: diagnosticView } },
      handler: async (req, res) => {
        const diagnostic = await deps.diagnostics.get(principalOf(res).workspaceId, String(req.params.id));
        if (!diagnostic) throw HubError.notFound('No diagnostic with this id in this workspace.');
        res.json(view(diagnostic));
      },
    },
  ];
}
