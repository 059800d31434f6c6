import type { Queryable } from './db.js';
import type { Evidence } from './evidence.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export const PACKAGE_STATUSES = ['queued', 'building', 'ready', 'failed'] as const;
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

export class EvidencePackageStore {
  constructor(private readonly db: Queryable) {}

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

  /** Records the finished package once; a retried activity changes nothing. */
  async markReady(id: string, built: BuiltPackage): Promise<void> {
    await this.db.query(
      `UPDATE evidence_packages SET status = 'ready', item_count = $2, file_count = $3, bytes = $4, sha256 = $5, manifest_sha256 = $6,
       verification_hash = $7, error = NULL, completed_at = now() WHERE id = $1 AND status = 'building'`,
      [id, built.itemCount, built.fileCount, built.bytes, built.sha256, built.manifestSha256, built.verificationHash],
    );
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
