/**
 * The evidence package build in a lean process: only the database, the stores, the blob store
 * and the package writer are loaded (no Temporal SDK, no API), so the figures are what a
 * package costs rather than what the modules around it hold. Run by bench/evidence-package.ts:
 * `tsx bench/evidence-package-child.ts <data dir> <package id>`; prints its figures as one JSON line.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeEvidencePackage } from '../activities/evidence-package-writer.js';
import { AuditLogStore } from '../store/audit-log/index.js';
import { BlobStore } from '../store/blobs.js';
import { openDb } from '../store/db.js';
import { EvidencePackageStore } from '../store/evidence-packages.js';
import { RunStore } from '../store/runs.js';
import { SnapshotStore } from '../store/snapshots.js';
import { measure } from './memory.js';

const [dataDir, packageId] = process.argv.slice(2) as [string, string];
const db = await openDb({ databaseUrl: process.env.DATABASE_URL || null, dataDir });
const blobs = await BlobStore.open(path.join(dataDir, 'blobs'));
const evidencePackages = new EvidencePackageStore(db);
const pkg = (await evidencePackages.markBuilding(packageId))!;
const tmp = await mkdtemp(path.join(os.tmpdir(), 'evidence-package-'));

const zipPath = path.join(tmp, 'package.zip');
const measured = await measure(async () => {
  const written = await writeEvidencePackage({ evidencePackages, runs: new RunStore(db), snapshots: new SnapshotStore(db), auditLog: new AuditLogStore(db), blobs }, pkg, zipPath, () => undefined);
  await blobs.putStream(createReadStream(zipPath));
  await evidencePackages.markReady(pkg.id, written);
  return written;
});
const written = measured.result;
await rm(tmp, { recursive: true, force: true });
await db.close();
process.stdout.write(`${JSON.stringify({ measured: { ...measured, result: null }, pkg: { items: written.itemCount, files: written.fileCount, bytes: written.bytes } })}\n`);
process.exit(0);
