import { HubError } from '../lib/errors.js';
import { SYSTEM_ACTOR, appendAuditEntries } from './audit-log/index.js';
import type { BlobStore } from './blobs.js';
import { atomically, type Queryable } from './db.js';
import type { Evidence } from './evidence.js';
import { toPage, type Page, type PageRequest } from './pagination.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';

/** The lifecycle of evidence packages. */
export interface EvidencePackageConfig {
  /** A ready package expires this long after it became ready: its file is deleted. */
  ttlMs: number;
  /** Packages a workspace may hold at once (queued, building or ready). */
  quotaCount: number;
  /** Bytes of ready packages a workspace may hold; a new package is refused at or over it. */
  quotaBytes: number;
}

export const PACKAGE_STATUSES = ['queued', 'building', 'ready', 'failed', 'expired'] as const;
export type PackageStatus = (typeof PACKAGE_STATUSES)[number];

/** Which evidence of the period goes in; absent: all of it. */
export interface PackageFilters {
  job_ids?: string[];
  control_refs?: string[];
}

export interface EvidencePackage {
  id: string;
  workspace_id: string;
  status: PackageStatus;
  period_from: Date;
  period_to: Date;
  filters: PackageFilters;
  workflow_id: string;
  requested_by: string | null;
  item_count: number | null;
  file_count: number | null;
  bytes: number | null;
  sha256: string | null;
  manifest_sha256: string | null;
  verification_hash: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  /** When a ready package expires (set when it becomes ready). */
  expires_at: Date | null;
  /** When the expiry pass deleted its file. */
  expired_at: Date | null;
}

/** The defaults of HUB_EVIDENCE_PACKAGE_TTL, …_QUOTA_COUNT and …_QUOTA_BYTES (config.ts). */
export const DEFAULT_PACKAGE_LIFECYCLE: EvidencePackageConfig = { ttlMs: 7 * 86_400_000, quotaCount: 50, quotaBytes: 10 * 1024 ** 3 };

/** What a workspace's packages hold now: those queued, building or ready, and the bytes of the ready ones. */
export interface PackageUsage {
  count: number;
  bytes: number;
}

export interface ExpiryResult {
  expired: { id: string; workspace_id: string; sha256: string | null; bytes: number | null; file_deleted: boolean }[];
}

export interface BuiltPackage {
  itemCount: number;
  fileCount: number;
  bytes: number;
  sha256: string;
  manifestSha256: string;
  verificationHash: string;
}

/** What a package selects from the ledger. */
export interface PackageScope {
  workspaceId: string;
  from: Date;
  to: Date;
  filters: PackageFilters;
}

/**
 * Where the previous page of evidence ended. `collectedAt` is PostgreSQL's own text of the
 * timestamp: a JavaScript Date would drop the microseconds and repeat or skip rows.
 */
export interface EvidenceCursor {
  collectedAt: string;
  id: string;
}

// pg returns bigint columns as strings.
function normalise(row: EvidencePackage): EvidencePackage {
  return { ...row, bytes: row.bytes === null ? null : Number(row.bytes) };
}

/** Payload bytes read per evidence page (the first row always comes, whatever its size). */
export const PAGE_PAYLOAD_BUDGET = 8 * 1024 * 1024;

// Advisory locks with two int keys live apart from the single-bigint ones (migrations, bootstrap).
const QUOTA_LOCK_CLASS = ADVISORY_LOCKS.packageQuota;
const EXPIRY_BATCH = 200;

export class EvidencePackageStore {
  constructor(private readonly db: Queryable, private lifecycleConfig: EvidencePackageConfig = DEFAULT_PACKAGE_LIFECYCLE) {}

  /** The time to live and quotas from the configuration (the composition root sets them once). */
  configure(lifecycle: EvidencePackageConfig): void {
    this.lifecycleConfig = lifecycle;
  }

  get lifecycle(): EvidencePackageConfig {
    return this.lifecycleConfig;
  }

  async usage(workspaceId: string): Promise<PackageUsage> {
    const [row] = await this.db.query<{ count: number | string; bytes: number | string }>(
      `SELECT count(*) AS count, coalesce(sum(bytes) FILTER (WHERE status = 'ready'), 0) AS bytes
       FROM evidence_packages WHERE workspace_id = $1 AND status IN ('queued', 'building', 'ready')`,
      [workspaceId],
    );
    return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /**
   * Refuses a new package (409, type quota-exceeded) while the workspace holds its quota of
   * packages or of bytes. Call it in the transaction that creates the package: it holds a
   * per-workspace lock until that transaction ends, so concurrent requests cannot both take
   * the last place.
   */
  async checkQuota(tx: Queryable, workspaceId: string): Promise<PackageUsage> {
    const quota = this.lifecycleConfig;
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK_CLASS, workspaceId]);
    const usage = await new EvidencePackageStore(tx).usage(workspaceId);
    const expiry = `Ready packages expire ${formatDuration(quota.ttlMs)} after they are built; a deleted or expired package frees its place.`;
    if (usage.count >= quota.quotaCount) {
      throw quotaExceeded(`This workspace holds ${usage.count} evidence packages (queued, building or ready); its quota is ${quota.quotaCount}. ${expiry}`);
    }
    if (usage.bytes >= quota.quotaBytes) {
      throw quotaExceeded(`This workspace's ready evidence packages take ${usage.bytes} bytes; its quota is ${quota.quotaBytes} bytes. ${expiry}`);
    }
    return usage;
  }

  async create(p: { id: string; workspaceId: string; from: Date; to: Date; filters: PackageFilters; workflowId: string; requestedBy: string | null }): Promise<EvidencePackage> {
    const [row] = await this.db.query<EvidencePackage>(
      `INSERT INTO evidence_packages (id, workspace_id, status, period_from, period_to, filters, workflow_id, requested_by)
       VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7) RETURNING *`,
      [p.id, p.workspaceId, p.from.toISOString(), p.to.toISOString(), JSON.stringify(p.filters), p.workflowId, p.requestedBy],
    );
    return normalise(row!);
  }

  async get(workspaceId: string, id: string): Promise<EvidencePackage | null> {
    const [row] = await this.db.query<EvidencePackage>('SELECT * FROM evidence_packages WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? normalise(row) : null;
  }

  async getById(id: string): Promise<EvidencePackage | null> {
    const [row] = await this.db.query<EvidencePackage>('SELECT * FROM evidence_packages WHERE id = $1', [id]);
    return row ? normalise(row) : null;
  }

  /** Newest first. */
  async list(workspaceId: string, page: PageRequest): Promise<Page<EvidencePackage>> {
    const rows = await this.db.query<EvidencePackage>(
      'SELECT * FROM evidence_packages WHERE workspace_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3',
      [workspaceId, page.after, page.limit + 1],
    );
    return toPage(rows.map(normalise), page.limit);
  }

  /** queued → building (a retried build stays building); null when the package is already settled. */
  async markBuilding(id: string): Promise<EvidencePackage | null> {
    const [row] = await this.db.query<EvidencePackage>(
      `UPDATE evidence_packages SET status = 'building', started_at = coalesce(started_at, now()) WHERE id = $1 AND status IN ('queued', 'building') RETURNING *`,
      [id],
    );
    return row ? normalise(row) : null;
  }

  /** Records the finished package once, to expire after the time to live; a retried activity changes nothing. */
  async markReady(id: string, built: BuiltPackage): Promise<void> {
    await this.db.query(
      `UPDATE evidence_packages SET status = 'ready', item_count = $2, file_count = $3, bytes = $4, sha256 = $5, manifest_sha256 = $6,
       verification_hash = $7, error = NULL, completed_at = now(), expires_at = now() + $8 * interval '1 millisecond' WHERE id = $1 AND status = 'building'`,
      [id, built.itemCount, built.fileCount, built.bytes, built.sha256, built.manifestSha256, built.verificationHash, this.lifecycleConfig.ttlMs],
    );
  }

  /**
   * The expiry pass: every ready package whose expires_at has come has its file deleted from
   * `blobs` (unless another package that is still kept has the same content) and becomes
   * 'expired', recorded in its workspace's audit log. The file goes first: a pass stopped in
   * between leaves a ready package without a file (downloads answer 410 already), which the
   * next pass finishes. Packages ready before expiry existed get completed_at + the time to
   * live. One package that fails does not hold up the others; the failures are thrown together.
   */
  async expireDue(blobs: BlobStore, now = new Date()): Promise<ExpiryResult> {
    await this.db.query(
      `UPDATE evidence_packages SET expires_at = completed_at + $1 * interval '1 millisecond' WHERE status = 'ready' AND expires_at IS NULL`,
      [this.lifecycleConfig.ttlMs],
    );
    const result: ExpiryResult = { expired: [] };
    const failures: unknown[] = [];
    let after: { expiresAt: string; id: string } | null = null;
    for (;;) {
      const due: { id: string; workspace_id: string; sha256: string | null; bytes: number | string | null; expires_at: Date; cursor_at: string }[] = await this.db.query(
        `SELECT id, workspace_id, sha256, bytes, expires_at, expires_at::text AS cursor_at FROM evidence_packages
         WHERE status = 'ready' AND expires_at <= $1 AND ($2::timestamptz IS NULL OR (expires_at, id) > ($2::timestamptz, $3::text))
         ORDER BY expires_at, id LIMIT $4`,
        [now.toISOString(), after?.expiresAt ?? null, after?.id ?? null, EXPIRY_BATCH],
      );
      for (const pkg of due) {
        try {
          result.expired.push(await this.expireOne(blobs, { ...pkg, bytes: pkg.bytes === null ? null : Number(pkg.bytes) }, now));
        } catch (err) {
          failures.push(err);
        }
      }
      if (due.length < EXPIRY_BATCH) break;
      const last = due[due.length - 1]!;
      after = { expiresAt: last.cursor_at, id: last.id };
    }
    if (failures.length) throw new AggregateError(failures, `evidence package expiry failed for ${failures.length} packages`);
    return result;
  }

  /**
   * Deletes a package's file from `blobs` unless another ready package that is still kept has
   * the same content (blobs are named by their SHA-256); true when it was deleted.
   */
  async deleteFile(blobs: BlobStore, pkg: { id: string; sha256: string | null }, now = new Date()): Promise<boolean> {
    if (!pkg.sha256) return false;
    const [shared] = await this.db.query(
      `SELECT 1 FROM evidence_packages WHERE sha256 = $1 AND id <> $2 AND status = 'ready' AND expires_at > $3 LIMIT 1`,
      [pkg.sha256, pkg.id, now.toISOString()],
    );
    if (shared) return false;
    await blobs.delete(pkg.sha256);
    return true;
  }

  /** Removes a package that is not being built (in the caller's transaction); false when there was none to remove. */
  async deleteSettled(workspaceId: string, id: string): Promise<boolean> {
    const rows = await this.db.query(`DELETE FROM evidence_packages WHERE workspace_id = $1 AND id = $2 AND status NOT IN ('queued', 'building') RETURNING id`, [workspaceId, id]);
    return rows.length > 0;
  }

  private async expireOne(blobs: BlobStore, pkg: { id: string; workspace_id: string; sha256: string | null; bytes: number | null; expires_at: Date }, now: Date) {
    const fileDeleted = await this.deleteFile(blobs, pkg, now);
    await atomically(this.db, async (tx) => {
      const [changed] = await tx.query(`UPDATE evidence_packages SET status = 'expired', expired_at = $2 WHERE id = $1 AND status = 'ready' RETURNING id`, [pkg.id, now.toISOString()]);
      if (!changed) return;
      await appendAuditEntries(tx, [{
        workspaceId: pkg.workspace_id, actor: SYSTEM_ACTOR, action: 'evidence_package.expired', resourceType: 'evidence_package', resourceId: pkg.id,
        changes: { sha256: pkg.sha256, bytes: pkg.bytes, expires_at: new Date(pkg.expires_at).toISOString(), file_deleted: fileDeleted },
      }]);
    });
    return { id: pkg.id, workspace_id: pkg.workspace_id, sha256: pkg.sha256, bytes: pkg.bytes, file_deleted: fileDeleted };
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE evidence_packages SET status = 'failed', error = $2, completed_at = now() WHERE id = $1 AND status IN ('queued', 'building')`,
      [id, error.slice(0, 2000)],
    );
  }

  /**
   * One page of the period's evidence in (collected_at, id) order, by keyset: each page is an
   * index range scan, so a package of any size reads the ledger a page at a time.
   */
  /**
   * The next page of the period's evidence in (collected_at, id) order: at most `limit` rows
   * and, beyond the first row, at most PAGE_PAYLOAD_BUDGET bytes of payload, so that a period
   * of large pushed payloads (up to the body limit each) never puts hundreds of them in memory.
   */
  async evidencePage(scope: PackageScope, after: EvidenceCursor | null, limit: number): Promise<{ rows: Evidence[]; next: EvidenceCursor | null }> {
    const rows = await this.db.query<Evidence & { cursor_at: string; available: number | string }>(
      `WITH page AS (
         SELECT id, collected_at, octet_length(payload::text) AS size FROM evidence
         WHERE workspace_id = $1 AND collected_at >= $2 AND collected_at <= $3
           AND ($4::text[] IS NULL OR job_id = ANY($4)) AND ($5::text[] IS NULL OR control_ref = ANY($5))
           AND ($6::timestamptz IS NULL OR (collected_at, id) > ($6::timestamptz, $7::text))
         ORDER BY collected_at, id LIMIT $8
       ), bounded AS (
         SELECT id, sum(size) OVER (ORDER BY collected_at, id) - size AS before, count(*) OVER () AS available FROM page
       )
       SELECT e.*, e.collected_at::text AS cursor_at, b.available FROM bounded b JOIN evidence e ON e.id = b.id
       WHERE b.before < $9 ORDER BY e.collected_at, e.id`,
      [scope.workspaceId, scope.from.toISOString(), scope.to.toISOString(), scope.filters.job_ids ?? null, scope.filters.control_refs ?? null,
        after?.collectedAt ?? null, after?.id ?? null, limit, PAGE_PAYLOAD_BUDGET],
    );
    const last = rows[rows.length - 1];
    const available = Number(last?.available ?? 0);
    // More may follow when the page was full, or when the byte budget cut it short.
    const next = last && (available === limit || rows.length < available) ? { collectedAt: last.cursor_at, id: last.id } : null;
    return { rows: rows.map(({ cursor_at: _c, available: _a, ...row }) => row), next };
  }
}

function quotaExceeded(detail: string): HubError {
  return new HubError(409, 'Quota Exceeded', detail, { type: 'quota-exceeded' });
}

/** 7 days, 12 hours, 90 minutes: the time to live as a person reads it. */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [[86_400_000, 'day'], [3_600_000, 'hour'], [60_000, 'minute'], [1_000, 'second']];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}${ms / size === 1 ? '' : 's'}`;
  }
  return `${ms} ms`;
}
