import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { CheckStore } from '../../store/checks.js';
import { EXCEPTION_STATUSES, ExceptionStore, type ExceptionStatus, type RiskException } from '../../store/exceptions.js';
import { workflowIds, type WorkflowStarter } from '../../temporal/starters.js';
import { auditContextOf, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { exact, linksTo, listOf, nullableTimestamp, pageQuery, pageRequest, timestamp } from '../schemas.js';

export interface ExceptionDeps extends AuditDeps {
  checks: CheckStore;
  exceptions: ExceptionStore;
  starter: WorkflowStarter;
  logger: Logger;
  /** The longest an exception may run (HUB_EXCEPTION_MAX_DURATION). */
  maxDurationMs: number;
}

const exceptionView: JsonSchema = exact({
  id: { type: 'string' }, check_id: { type: 'string' }, job_id: { type: 'string' }, rule_id: { type: 'string' },
  record_ids: { type: ['array', 'null'], items: { type: 'string' }, description: 'The accepted records (by the rule’s id_field); null: the whole check.' },
  reason: { type: 'string' }, owner: { type: 'string' }, expires_at: timestamp, status: { enum: [...EXCEPTION_STATUSES] },
  created_at: timestamp, ended_at: nullableTimestamp,
});

function present(e: RiskException) {
  return {
    id: e.id, check_id: e.check_id, job_id: e.job_id, rule_id: e.rule_id, record_ids: e.record_ids, reason: e.reason, owner: e.owner,
    expires_at: e.expires_at, status: e.status, created_at: e.created_at, ended_at: e.ended_at,
  };
}

/** Risk acceptance without editing the mapping: a finding accepted by someone, for a while. */
export function exceptionRoutes(deps: ExceptionDeps): RouteSpec[] {
  const maxDays = Math.round(deps.maxDurationMs / 86_400_000);
  return [
    {
      method: 'post', path: '/api/v1/exceptions', operationId: 'createException', tag: 'posture', auth: 'config:write', idempotent: true,
      summary: 'Accept a check’s finding (or some of its records) until an expiry: the next evaluations report it as a pass that lists what was accepted.',
      description: `An error is never accepted. At expiry (at most ${maxDays} days ahead) the check is evaluated again on its latest data and exception.expired is sent; exception.expiring 7 days before.`,
      body: {
        type: 'object', additionalProperties: false, required: ['check_id', 'reason', 'owner', 'expires_at'],
        properties: {
          check_id: { type: 'string', minLength: 1, maxLength: 400 },
          record_ids: { type: 'array', minItems: 1, maxItems: 1000, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 200 }, description: 'Only these records of the check; absent: the whole check.' },
          reason: { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' },
          owner: { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S', description: 'Who answers for the accepted risk.' },
          expires_at: { type: 'string', format: 'date-time', description: `Required: in the future, at most ${maxDays} days ahead.` },
        },
      },
      responses: { 201: { description: 'Granted.', schema: exceptionView, headers: { Location: 'The exception.' }, links: linksTo(['revokeException']) } },
      problems: { 503: 'Temporal is not reachable; the exception was not granted (Retry-After).' },
      handler: async (req, res) => {
        const { workspaceId, keyId } = principalOf(res);
        const body = req.body as { check_id: string; record_ids?: string[]; reason: string; owner: string; expires_at: string };
        const expiresAt = new Date(body.expires_at);
        const now = Date.now();
        if (expiresAt.getTime() <= now) throw HubError.validation([{ pointer: '/expires_at', message: 'must be in the future' }]);
        if (expiresAt.getTime() - now > deps.maxDurationMs) throw HubError.validation([{ pointer: '/expires_at', message: `must be at most ${maxDays} days ahead (HUB_EXCEPTION_MAX_DURATION)` }]);
        const check = await deps.checks.get(workspaceId, body.check_id);
        if (!check) throw HubError.validation([{ pointer: '/check_id', message: 'no such check in this workspace' }]);
        const id = newId('exc');
        const created = await deps.db.transaction((tx) => new ExceptionStore(tx).create(tx, {
          id, workspace_id: workspaceId, check_id: check.id, job_id: check.job_id, rule_id: check.rule_id, record_ids: body.record_ids ?? null,
          reason: body.reason, owner: body.owner, expires_at: expiresAt, workflow_id: workflowIds.exception(id), created_by: keyId,
        }, auditContextOf(req, res)));
        await deps.starter.exception({ exceptionId: id, workspaceId, jobId: check.job_id, expiresAt }).catch(async (err: unknown) => {
          // Without its timer it would never expire: it does not stand.
          await deps.exceptions.end(id, 'revoked', auditContextOf(req, res));
          throw err;
        });
        res.status(201).location(`/api/v1/exceptions/${id}`).json(present(created));
      },
    },
    {
      method: 'get', path: '/api/v1/exceptions', operationId: 'listExceptions', tag: 'posture', auth: 'evidence:read', summary: 'Exceptions: active, expired and revoked.',
      query: { type: 'object', properties: { ...(pageQuery.properties as object), status: { enum: [...EXCEPTION_STATUSES] }, check_id: { type: 'string', maxLength: 400 } } },
      responses: { 200: { description: 'A page of exceptions.', schema: listOf(exceptionView) } },
      handler: async (_req, res) => {
        const q = res.locals.query as { status?: ExceptionStatus; check_id?: string };
        const page = await deps.exceptions.list(principalOf(res).workspaceId, pageRequest(res), { status: q.status, checkId: q.check_id });
        res.json({ data: page.data.map(present), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'delete', path: '/api/v1/exceptions/:id', operationId: 'revokeException', tag: 'posture', auth: 'config:write',
      summary: 'Revoke an exception: its check is evaluated again at once, without it.',
      responses: { 204: { description: 'Revoked (or it had already ended).' } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const exception = await deps.exceptions.get(workspaceId, String(req.params.id));
        if (!exception) throw HubError.notFound('No exception with this id in this workspace.');
        if (exception.status === 'active' && (await deps.exceptions.end(exception.id, 'revoked', auditContextOf(req, res)))) {
          // The revocation stands in the database; its timer re-evaluates the check. Should the
          // signal not arrive, the timer still does so at the exception's expiry.
          await deps.starter.revokeException(exception.id).catch((err: unknown) => deps.logger.warn({ err, exception_id: exception.id }, 'revocation not signalled; the check is re-evaluated at expiry'));
        }
        res.status(204).end();
      },
    },
  ];
}
