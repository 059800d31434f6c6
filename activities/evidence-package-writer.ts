import { Readable } from 'node:stream';
import { canonicalJson } from '../lib/canonical-json.js';
import { FileListHasher, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, MANIFEST_PATH, VERIFICATION_METHOD, manifestChunks, type ManifestFile } from '../lib/package-manifest.js';
import { StreamingZipWriter, type ZipEntryDigest } from '../lib/zip-writer.js';
import type { AuditLogStore } from '../store/audit-log/index.js';
import type { BlobStore } from '../store/blobs.js';
import type { Evidence } from '../store/evidence.js';
import type { BuiltPackage, EvidenceCursor, EvidencePackage, EvidencePackageStore, PackageScope } from '../store/evidence-packages.js';
import { decodeCursor } from '../store/pagination.js';
import type { Run, RunStore } from '../store/runs.js';
import type { Snapshot, SnapshotStore } from '../store/snapshots.js';

/** What a package is made from. */
export interface PackageSources {
  evidencePackages: EvidencePackageStore;
  runs: RunStore;
  snapshots: SnapshotStore;
  auditLog: AuditLogStore;
  blobs: BlobStore;
}

export interface PackageProgress {
  stage: 'evidence' | 'runs' | 'snapshots' | 'audit-log' | 'manifest';
  items: number;
  files: number;
}

/** What a written package is recorded with when it becomes ready. */
export type WrittenPackage = BuiltPackage;

/** Rows of evidence (about 1 KB each) read per query. */
export const EVIDENCE_PAGE_SIZE = 500;
const AUDIT_PAGE_SIZE = 500;

/** The ledger row as the package shows it: every field but internal bookkeeping. */
function evidenceDocument(e: Evidence) {
  return {
    id: e.id, run_id: e.run_id, job_id: e.job_id, rule_id: e.rule_id, dataset: e.dataset, control_ref: e.control_ref,
    question_match: e.question_match, question_id: e.question_id, title: e.title, source: e.source, result: e.result,
    collected_at: e.collected_at, payload: e.payload, payload_sha256: e.payload_sha256,
    destination_id: e.destination_id, target: e.target, status: e.status, destination_evidence_ids: e.destination_evidence_ids,
    candidates: e.candidates, error: e.error, attempts: e.attempts, delivered_at: e.delivered_at, created_at: e.created_at, updated_at: e.updated_at,
  };
}

export function snapshotPath(snapshotId: string): string {
  return `snapshots/${snapshotId}.ndjson`;
}

function runDocument(run: Run, snapshots: Snapshot[]) {
  return {
    id: run.id, job_id: run.job_id, trigger: run.trigger, status: run.status, mapping_id: run.mapping_id, mapping_version: run.mapping_version,
    counts: run.counts, error: run.error, created_at: run.created_at, started_at: run.started_at, ended_at: run.ended_at,
    snapshots: snapshots.map((s) => ({
      id: s.id, path: snapshotPath(s.id), dataset: s.dataset, connection_id: s.connection_id, record_count: s.record_count,
      sha256: s.sha256, bytes: s.bytes, collected_at: s.collected_at, metadata: s.metadata,
    })),
  };
}

/** The path of the evidence file in a package. */
export const EVIDENCE_PATH = 'evidence.ndjson';

/** The period's evidence as NDJSON, a page of rows at a time, in (collected_at, id) order. */
async function* evidenceLines(store: EvidencePackageStore, scope: PackageScope, seen: (row: Evidence) => void): AsyncGenerator<string> {
  let cursor: EvidenceCursor | null = null;
  do {
    const page = await store.evidencePage(scope, cursor, EVIDENCE_PAGE_SIZE);
    let lines = '';
    for (const row of page.rows) {
      seen(row);
      lines += JSON.stringify(evidenceDocument(row)) + '\n';
    }
    if (lines) yield lines;
    cursor = page.next;
  } while (cursor);
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/**
 * Writes the package as a ZIP to `zipPath`, streaming: the evidence a page at a time, the
 * snapshots straight from the blob store, the audit log a page at a time, each file hashed as
 * it is written, `manifest.json` last. Held in memory: one page of rows, the set of runs and
 * snapshots the items came from, and the file list (path, size, hash) for the manifest.
 */
export async function writeEvidencePackage(sources: PackageSources, pkg: EvidencePackage, zipPath: string, progress: (p: PackageProgress) => void): Promise<WrittenPackage> {
  const generatedAt = new Date();
  const zip = new StreamingZipWriter(zipPath, { mtime: generatedAt });
  const files: ManifestFile[] = [];
  const listHash = new FileListHasher();
  const record = (digest: ZipEntryDigest) => {
    files.push(digest);
    listHash.add(digest);
  };
  const scope: PackageScope = { workspaceId: pkg.workspace_id, from: pkg.period_from, to: pkg.period_to, filters: pkg.filters };

  try {
    // 1. The evidence items of the period as one NDJSON file (a line per item, its payload and
    //    payload_sha256 included), and the runs they came from. One entry rather than a file per
    //    item: a period of 50 000 items stays one streamed file, not 50 000 ZIP entries.
    const runIds = new Set<string>();
    let items = 0;
    record(await zip.addStream(EVIDENCE_PATH, () => Readable.from(evidenceLines(sources.evidencePackages, scope, (row) => {
      if (row.run_id) runIds.add(row.run_id);
      items++;
      if (items % EVIDENCE_PAGE_SIZE === 0) progress({ stage: 'evidence', items, files: files.length });
    }), { objectMode: false })));
    progress({ stage: 'evidence', items, files: files.length });

    // 2. Those runs, with the snapshots each one evaluated.
    const snapshots = new Map<string, Snapshot>();
    let runCount = 0;
    for (const runId of [...runIds].sort()) {
      const run = await sources.runs.get(pkg.workspace_id, runId);
      if (!run) continue;
      const read = run.snapshot_ids.length ? await sources.snapshots.getMany(pkg.workspace_id, run.snapshot_ids) : [];
      for (const snapshot of read) snapshots.set(snapshot.id, snapshot);
      record(await zip.addContent(`runs/${run.id}.json`, pretty(runDocument(run, read))));
      runCount++;
    }
    progress({ stage: 'runs', items, files: files.length });

    // 3. The snapshots, decompressed from the blob store as NDJSON. Blobs are named by the
    //    SHA-256 of their content, so each file must hash to its snapshot's sha256.
    for (const snapshot of [...snapshots.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const digest = await zip.addStream(snapshotPath(snapshot.id), () => sources.blobs.stream(snapshot.sha256));
      if (digest.sha256 !== snapshot.sha256) throw new Error(`snapshot ${snapshot.id}: the stored content does not match its SHA-256`);
      record(digest);
      progress({ stage: 'snapshots', items, files: files.length });
    }

    // 4. The audit log of the period (archived entries too) and the verification of its chain,
    //    both up to the build's start at the latest: entries appended while the package is
    //    written (its own deliveries, downloads) would be in one and not the other.
    let auditEntries = 0;
    const auditTo = new Date(Math.min(new Date(pkg.period_to).getTime(), generatedAt.getTime()));
    const auditScope: PackageScope = { ...scope, to: auditTo };
    record(await zip.addStream('audit-log.ndjson', () => Readable.from(auditLogLines(sources.auditLog, auditScope, () => { auditEntries++; }), { objectMode: false })));
    const verification = await sources.auditLog.verify(pkg.workspace_id, { from: pkg.period_from, to: auditTo, scope: 'all' });
    record(await zip.addContent('audit-log-verification.json', pretty({ period: { from: pkg.period_from, to: auditTo }, ...verification })));
    progress({ stage: 'audit-log', items, files: files.length });

    // 5. The manifest: every file above with its size and SHA-256, and the hash over that list.
    const verificationHash = listHash.digest();
    const header = {
      format: MANIFEST_FORMAT,
      format_version: MANIFEST_FORMAT_VERSION,
      package: {
        id: pkg.id, workspace_id: pkg.workspace_id,
        period: { from: pkg.period_from, to: pkg.period_to, applies_to: 'evidence collected_at and audit log occurred_at, both ends inclusive' },
        filters: pkg.filters, requested_by: pkg.requested_by, requested_at: pkg.created_at, generated_at: generatedAt,
      },
      contents: { evidence_items: items, runs: runCount, snapshots: snapshots.size, audit_log_entries: auditEntries, files: files.length },
      verification_method: VERIFICATION_METHOD,
      verification_hash: verificationHash,
    };
    progress({ stage: 'manifest', items, files: files.length });
    const manifest = await zip.addStream(MANIFEST_PATH, () => Readable.from(manifestChunks(header, files), { objectMode: false }));
    const archive = await zip.finish();
    return { itemCount: items, fileCount: files.length + 1, bytes: archive.bytes, sha256: archive.sha256, manifestSha256: manifest.sha256, verificationHash };
  } catch (err) {
    zip.abort(err as Error);
    throw err;
  }
}

/** The period's audit log entries as NDJSON, one canonical JSON entry per line, in seq order. */
async function* auditLogLines(auditLog: AuditLogStore, scope: PackageScope, counted: () => void): AsyncGenerator<string> {
  let after: string | null = null;
  do {
    const page = await auditLog.list(scope.workspaceId, { limit: AUDIT_PAGE_SIZE, after }, { from: scope.from, to: scope.to, includeArchived: true, order: 'asc' });
    let lines = '';
    for (const entry of page.data) {
      lines += canonicalJson({ ...entry, occurred_at: entry.occurred_at.toISOString() }) + '\n';
      counted();
    }
    if (lines) yield lines;
    after = decodeCursor(page.next_cursor);
  } while (after !== null);
}
