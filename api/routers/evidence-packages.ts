import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import type { AuditLogStore } from '../../store/audit-log/index.js';
import type { BlobStore } from '../../store/blobs.js';
import type { Db } from '../../store/db.js';
import { EvidencePackageStore, PACKAGE_STATUSES, formatDuration, type EvidencePackage, type PackageFilters } from '../../store/evidence-packages.js';
import { workflowIds, type WorkflowStarter } from '../../temporal/starters.js';
import { hasScope, principalOf } from '../auth.js';
import { listOf, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { auditContextOf } from '../audit.js';

export interface EvidencePackageRouteDeps {
  db: Db;
  evidencePackages: EvidencePackageStore;
  auditLog: AuditLogStore;
  blobs: BlobStore;
  starter: WorkflowStarter;
  logger: Logger;
}

/** Seconds a caller should wait before asking about a package again. */
const POLL_SECONDS = 5;
const READERS: RouteSpec['auth'] = ['evidence:read', 'audit:read'];
/** A package holds evidence payloads, snapshots AND the audit log: building or downloading one takes both scopes. */
const PACKAGE_SCOPES = ['evidence:read', 'audit:read'] as const;

function requirePackageScopes(res: Response): void {
  const principal = principalOf(res);
  const missing = PACKAGE_SCOPES.filter((scope) => !hasScope(principal, scope));
  if (missing.length) {
    throw HubError.forbidden(`An evidence package holds evidence, dataset snapshots and the audit log: it needs both evidence:read and audit:read (this key lacks ${missing.join(', ')}).`);
  }
}
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

const periodBound = (description: string): JsonSchema => ({
  type: 'string', anyOf: [{ format: 'date-time' }, { format: 'date' }], description,
});
const idList = (maxLength: number, description: string): JsonSchema => ({
  type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength }, description,
});

const packageView: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { enum: [...PACKAGE_STATUSES] },
    from: timestamp,
    to: timestamp,
    filters: { type: 'object', properties: { job_ids: { type: 'array', items: { type: 'string' } }, control_refs: { type: 'array', items: { type: 'string' } } } },
    item_count: { type: ['integer', 'null'], description: 'Evidence items in the package.' },
    file_count: { type: ['integer', 'null'], description: 'Files in the ZIP, manifest.json included.' },
    bytes: { type: ['integer', 'null'], description: 'Size of the ZIP.' },
    sha256: { type: ['string', 'null'], description: 'SHA-256 (hex) of the ZIP.' },
    manifest_sha256: { type: ['string', 'null'], description: 'SHA-256 (hex) of manifest.json inside the ZIP.' },
    verification_hash: { type: ['string', 'null'], description: 'The manifest’s verification_hash (see its verification_method).' },
    error: { type: ['string', 'null'] },
    download_url: { type: ['string', 'null'], description: 'Where to download the ZIP once ready.' },
    created_at: timestamp,
    started_at: { type: ['string', 'null'] },
    completed_at: { type: ['string', 'null'] },
    expires_at: { type: ['string', 'null'], description: 'When a ready package expires: its file is then deleted and the package reads as expired.' },
    expired_at: { type: ['string', 'null'], description: 'When the package expired and its file was deleted.' },
  },
};

function present(p: EvidencePackage) {
  return {
    id: p.id, status: p.status, from: p.period_from, to: p.period_to, filters: p.filters, item_count: p.item_count, file_count: p.file_count,
    bytes: p.bytes, sha256: p.sha256, manifest_sha256: p.manifest_sha256, verification_hash: p.verification_hash, error: p.error,
    download_url: p.status === 'ready' ? `/api/v1/evidence-packages/${p.id}/download` : null,
    created_at: p.created_at, started_at: p.started_at, completed_at: p.completed_at, expires_at: p.expires_at, expired_at: p.expired_at,
  };
}

/** A date alone covers the whole day (UTC): from its first to its last millisecond. */
function bound(value: string, end: 'from' | 'to'): Date {
  if (DATE_ONLY.test(value)) return new Date(`${value}T${end === 'from' ? '00:00:00.000' : '23:59:59.999'}Z`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw HubError.validation([{ pointer: `/${end}`, message: 'is not a date-time this hub can use' }]);
  return date;
}

function contentDigest(sha256Hex: string): string {
  return `sha-256=:${Buffer.from(sha256Hex, 'hex').toString('base64')}:`;
}

export function evidencePackageRoutes(deps: EvidencePackageRouteDeps): RouteSpec[] {
  const mustGet = async (workspaceId: string, id: string) => {
    const pkg = await deps.evidencePackages.get(workspaceId, id);
    if (!pkg) throw HubError.notFound('No evidence package with this id in this workspace.');
    return pkg;
  };

  return [
    {
      method: 'post', path: '/api/v1/evidence-packages', operationId: 'createEvidencePackage', tag: 'evidence-packages', auth: READERS, idempotent: true,
      summary: 'Build an evidence package for auditors: a ZIP of a period’s evidence, snapshots, runs and audit log, with a hashed manifest.',
      description:
        'Answers 202 at once with Location; the package is built in the background (status queued → building → ready or failed). ' +
        'The period applies to the evidence’s collected_at and the audit log’s occurred_at, both ends inclusive; a date alone (2026-03-31) means the whole day in UTC. ' +
        'job_ids and control_refs narrow the evidence to those jobs or controls. The ZIP holds evidence.ndjson (one item per line, with its payload), snapshots/<id>.ndjson, runs/<id>.json, ' +
        'audit-log.ndjson, audit-log-verification.json and manifest.json, which lists every file with its size and SHA-256 and explains how to verify them. ' +
        'A ready package expires after the hub’s time to live (HUB_EVIDENCE_PACKAGE_TTL, 7 days by default): its file is deleted and the package reads as expired. ' +
        'A workspace holds at most HUB_EVIDENCE_PACKAGE_QUOTA_COUNT packages (queued, building or ready) and HUB_EVIDENCE_PACKAGE_QUOTA_BYTES bytes of ready ones; ' +
        'over either, a request is refused with a 409 problem of type quota-exceeded.',
      body: {
        type: 'object', additionalProperties: false, required: ['from', 'to'],
        properties: {
          from: periodBound('Start of the period (date-time, or a date: its first instant, UTC).'),
          to: periodBound('End of the period, inclusive (date-time, or a date: its last instant, UTC).'),
          job_ids: idList(200, 'Only evidence of these jobs.'),
          control_refs: idList(500, 'Only evidence for these controls.'),
        },
      },
      responses: {
        202: { description: 'Accepted; the package is being built. Poll Location.', schema: packageView, headers: { Location: 'The package.', 'Retry-After': 'Seconds before the first poll.' } },
        409: { description: 'The workspace is over its package quota (problem type quota-exceeded): delete a package or wait for one to expire.' },
      },
      handler: async (req, res) => {
        requirePackageScopes(res);
        const { workspaceId, keyId } = principalOf(res);
        const body = req.body as { from: string; to: string; job_ids?: string[]; control_refs?: string[] };
        const from = bound(body.from, 'from');
        const to = bound(body.to, 'to');
        if (from > to) throw HubError.validation([{ pointer: '/to', message: 'must not be before from' }]);
        const filters: PackageFilters = {
          ...(body.job_ids ? { job_ids: body.job_ids } : {}),
          ...(body.control_refs ? { control_refs: body.control_refs } : {}),
        };
        const id = newId('pkg');
        const workflowId = workflowIds.evidencePackage(id);
        // The quota check, the request and its audit entry are written together.
        const pkg = await deps.db.transaction(async (tx) => {
          await deps.evidencePackages.checkQuota(tx, workspaceId);
          const created = await new EvidencePackageStore(tx).create({ id, workspaceId, from, to, filters, workflowId, requestedBy: keyId });
          await deps.auditLog.append(tx, {
            ...auditContextOf(req, res), workspaceId, action: 'evidence_package.requested', resourceType: 'evidence_package', resourceId: id,
            changes: { from: from.toISOString(), to: to.toISOString(), filters },
          });
          return created;
        });
        await deps.starter.evidencePackage(id).catch(async (err: unknown) => {
          // A package that never started building must not look queued forever.
          await deps.evidencePackages.markFailed(id, 'Temporal was not reachable; the package was not built.');
          throw err;
        });
        res.status(202).location(`/api/v1/evidence-packages/${id}`).setHeader('Retry-After', String(POLL_SECONDS));
        res.json(present(pkg));
      },
    },
    {
      method: 'get', path: '/api/v1/evidence-packages', operationId: 'listEvidencePackages', tag: 'evidence-packages', auth: READERS,
      summary: 'Evidence packages, newest first.', query: pageQuery,
      responses: { 200: { description: 'A page of packages.', schema: listOf(packageView) } },
      handler: async (_req, res) => {
        const page = await deps.evidencePackages.list(principalOf(res).workspaceId, pageRequest(res));
        res.json({ data: page.data.map(present), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/evidence-packages/:id', operationId: 'getEvidencePackage', tag: 'evidence-packages', auth: READERS,
      summary: 'A package’s status; once ready, its size, SHA-256 and manifest hash.',
      responses: { 200: { description: 'The package.', schema: packageView } },
      handler: async (req, res) => {
        const pkg = await mustGet(principalOf(res).workspaceId, String(req.params.id));
        if (pkg.status === 'queued' || pkg.status === 'building') res.setHeader('Retry-After', String(POLL_SECONDS));
        res.json(present(pkg));
      },
    },
    {
      method: 'delete', path: '/api/v1/evidence-packages/:id', operationId: 'deleteEvidencePackage', tag: 'evidence-packages', auth: READERS,
      summary: 'Delete a package and its file, freeing its place in the workspace’s quota; 409 while it is being built.',
      description: 'Needs evidence:read and audit:read, like requesting one. The deletion is recorded in the audit log.',
      responses: { 204: { description: 'Deleted.' }, 409: { description: 'The package is queued or building; delete it once it is ready or failed.' } },
      handler: async (req, res) => {
        requirePackageScopes(res);
        const { workspaceId } = principalOf(res);
        const pkg = await mustGet(workspaceId, String(req.params.id));
        if (pkg.status === 'queued' || pkg.status === 'building') {
          throw new HubError(409, 'Conflict', `The package is ${pkg.status}; delete it once its status is ready or failed.`, { headers: { 'Retry-After': String(POLL_SECONDS) } });
        }
        // The file first: a deletion stopped half-way leaves a record without a file (a 410 on download), not a file without a record.
        const fileDeleted = pkg.status === 'ready' ? await deps.evidencePackages.deleteFile(deps.blobs, pkg) : false;
        await deps.db.transaction(async (tx) => {
          if (!(await new EvidencePackageStore(tx).deleteSettled(workspaceId, pkg.id))) return;
          await deps.auditLog.append(tx, {
            ...auditContextOf(req, res), workspaceId, action: 'evidence_package.deleted', resourceType: 'evidence_package', resourceId: pkg.id,
            changes: { status: pkg.status, sha256: pkg.sha256, bytes: pkg.bytes, file_deleted: fileDeleted },
          });
        });
        res.status(204).end();
      },
    },
    {
      method: 'get', path: '/api/v1/evidence-packages/:id/download', operationId: 'downloadEvidencePackage', tag: 'evidence-packages', auth: READERS,
      summary: 'The package as a ZIP (application/zip), streamed; 409 while it is not ready, 410 once it has expired.',
      description: 'ETag and Repr-Digest carry the ZIP’s SHA-256 (the package’s sha256). Every download is recorded in the audit log.',
      responses: {
        200: {
          description: 'The ZIP (application/zip).',
          headers: { 'Content-Disposition': 'attachment; filename="evidence-package-<id>.zip"', 'Content-Length': 'Size of the ZIP.', ETag: 'The ZIP’s SHA-256.', 'Repr-Digest': 'sha-256 of the ZIP (RFC 9530).' },
        },
        409: { description: 'The package is not ready (queued, building or failed).' },
        410: { description: 'The package has expired (problem type evidence-package-expired) and its file was deleted: request a new one.' },
      },
      handler: async (req, res) => {
        requirePackageScopes(res);
        const { workspaceId } = principalOf(res);
        const pkg = await mustGet(workspaceId, String(req.params.id));
        if (pkg.status === 'expired') {
          throw new HubError(410, 'Gone', `The package expired at ${new Date(pkg.expired_at ?? pkg.expires_at ?? Date.now()).toISOString()} `
            + `(ready packages are kept ${formatDuration(deps.evidencePackages.lifecycle.ttlMs)}) and its file was deleted; request a new package for the same period.`, { type: 'evidence-package-expired' });
        }
        if (pkg.status !== 'ready' || !pkg.sha256 || pkg.bytes === null) {
          const pending = pkg.status === 'queued' || pkg.status === 'building';
          throw new HubError(409, 'Conflict', pending
            ? `The package is ${pkg.status}; download it once its status is ready.`
            : `The package failed and has nothing to download: ${pkg.error ?? 'unknown error'}. Request a new one.`,
          pending ? { headers: { 'Retry-After': String(POLL_SECONDS) } } : {});
        }
        if (!(await deps.blobs.has(pkg.sha256))) throw new HubError(410, 'Gone', 'The package file is no longer stored; request a new package.');
        if (req.method === 'GET') {
          await deps.auditLog.appendOwnTx({
            ...auditContextOf(req, res), workspaceId, action: 'evidence_package.downloaded', resourceType: 'evidence_package', resourceId: pkg.id,
            changes: { sha256: pkg.sha256, bytes: pkg.bytes },
          });
        }
        res.status(200);
        res.setHeader('Content-Type', 'application/zip');
        res.setHeader('Content-Length', String(pkg.bytes));
        res.setHeader('Content-Disposition', `attachment; filename="evidence-package-${pkg.id}.zip"`);
        res.setHeader('ETag', `"${pkg.sha256}"`);
        res.setHeader('Repr-Digest', contentDigest(pkg.sha256));
        try {
          await pipeline(deps.blobs.stream(pkg.sha256), res);
        } catch (err) {
          // A client that hangs up mid-download is not an error of ours; anything else is logged.
          if (!res.destroyed || (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
            deps.logger.error({ err, package_id: pkg.id }, 'evidence package download failed');
          }
          res.destroy();
        }
      },
    },
  ];
}
