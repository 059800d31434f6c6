import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { canonicalSha256 } from '../../lib/canonical-json.js';
import { ConfigError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { BlobRef, BlobStore } from '../../store/blobs.js';
import { EvidencePackageStore } from '../../store/evidence-packages.js';
import { BACKENDS, eventually, newWorkspace, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';

const DAY_MS = 86_400_000;
const TTL_MS = 2 * DAY_MS;
const QUOTA_COUNT = 3;
const QUOTA_BYTES = 200_000;
const PERIOD = { from: '2026-02-01', to: '2026-02-28' };

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('evidence package lifecycle settings', () => {
  it('defaults to 7 days, 50 packages and 10 GiB per workspace, and refuses bad values at start-up', () => {
    expect(loadConfig({}).evidencePackages).toEqual({ ttlMs: 7 * DAY_MS, quotaCount: 50, quotaBytes: 10 * 1024 ** 3 });
    expect(loadConfig({ HUB_EVIDENCE_PACKAGE_TTL: '36h', HUB_EVIDENCE_PACKAGE_QUOTA_COUNT: '5', HUB_EVIDENCE_PACKAGE_QUOTA_BYTES: '1048576' }).evidencePackages)
      .toEqual({ ttlMs: 36 * 3_600_000, quotaCount: 5, quotaBytes: 1_048_576 });
    expect(() => loadConfig({ HUB_EVIDENCE_PACKAGE_TTL: 'a week' })).toThrow(ConfigError);
    expect(() => loadConfig({ HUB_EVIDENCE_PACKAGE_TTL: '10s' })).toThrow(/HUB_EVIDENCE_PACKAGE_TTL/);
    expect(() => loadConfig({ HUB_EVIDENCE_PACKAGE_QUOTA_COUNT: '0' })).toThrow(/HUB_EVIDENCE_PACKAGE_QUOTA_COUNT/);
    expect(() => loadConfig({ HUB_EVIDENCE_PACKAGE_QUOTA_BYTES: '10GB' })).toThrow(/HUB_EVIDENCE_PACKAGE_QUOTA_BYTES/);
  });
});

describe.each(BACKENDS)('evidence package lifecycle (%s)', (backend) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({
      backend,
      env: { HUB_EVIDENCE_PACKAGE_TTL: '2d', HUB_EVIDENCE_PACKAGE_QUOTA_COUNT: String(QUOTA_COUNT), HUB_EVIDENCE_PACKAGE_QUOTA_BYTES: String(QUOTA_BYTES) },
    });
  });
  afterAll(async () => { await t?.stop(); });

  const blobFile = (sha: string) => path.join(t.dataDir, 'blobs', sha.slice(0, 2), sha.slice(2, 4), sha);
  const request = (call: ApiCaller) => call('POST', '/api/v1/evidence-packages', { json: PERIOD });
  const settled = (call: ApiCaller, id: string) => eventually(async () => {
    const res = await call('GET', `/api/v1/evidence-packages/${id}`);
    expect(res.status, res.text).toBe(200);
    return ['queued', 'building'].includes(res.body.status) ? null : res.body;
  }, { timeoutMs: 60_000, intervalMs: 200 });
  const built = async (call: ApiCaller) => {
    const created = await request(call);
    expect(created.status, created.text).toBe(202);
    const pkg = await settled(call, created.body.id);
    expect(pkg, JSON.stringify(pkg)).toMatchObject({ status: 'ready' });
    return pkg;
  };
  const download = async (key: string, id: string) => {
    const res = await fetch(`${t.url}/api/v1/evidence-packages/${id}/download`, { headers: { 'x-api-key': key } });
    return { status: res.status, type: res.headers.get('content-type'), body: Buffer.from(await res.arrayBuffer()) };
  };
  /** Evidence straight into the ledger, `size` bytes of incompressible payload each. */
  const insertEvidence = async (workspaceId: string, count: number, size: number) => {
    for (let i = 0; i < count; i++) {
      const payload = { blob: randomBytes(size).toString('base64') };
      const id = newId('ev');
      await t.hub.db.query(
        `INSERT INTO evidence (id, workspace_id, job_id, rule_id, control_ref, title, source, result, payload, payload_sha256, collected_at, status, identity)
         VALUES ($1, $2, 'job_big', 'big', 'Big', $3, 'test', 'info', $4, $5, $6, 'delivered', $7)`,
        [id, workspaceId, `Big item ${i}`, JSON.stringify(payload), canonicalSha256(payload), `2026-02-10T00:00:0${i}Z`, `big:${id}`],
      );
    }
  };

  it('writes the ZIP once: into the blob store’s own temporary file, which becomes the blob by a rename', async () => {
    const ws = await newWorkspace(t, `single-write-${backend}`);
    await insertEvidence(ws.id, 2, 2_000);
    const blobs: BlobStore = t.hub.blobs;
    const writes: string[] = [];
    const adopted: { file: string; ino: number }[] = [];
    const original = { put: blobs.put, putStream: blobs.putStream, concat: blobs.concat, adopt: blobs.adopt };
    // Every way of writing through the store, counted while the package is built.
    blobs.put = (...args) => { writes.push('put'); return original.put.apply(blobs, args); };
    blobs.putStream = (...args) => { writes.push('putStream'); return original.putStream.apply(blobs, args); };
    blobs.concat = (...args) => { writes.push('concat'); return original.concat.apply(blobs, args); };
    blobs.adopt = async (file: string, ref: BlobRef) => {
      adopted.push({ file, ino: (await stat(file)).ino });
      return original.adopt.call(blobs, file, ref);
    };
    let pkg: { id: string; sha256: string; bytes: number };
    try {
      pkg = await built(ws.call);
    } finally {
      Object.assign(blobs, original);
    }
    // No copy of the ZIP went through the store: the file the writer wrote is the blob.
    expect(writes).toEqual([]);
    expect(adopted).toHaveLength(1);
    expect(path.dirname(adopted[0]!.file)).toBe(path.join(t.dataDir, 'blobs', 'tmp'));
    const stored = await stat(blobFile(pkg.sha256));
    expect(stored.ino).toBe(adopted[0]!.ino);
    expect(stored.size).toBe(pkg.bytes);
    expect(sha256(await readFile(blobFile(pkg.sha256)))).toBe(pkg.sha256);
    expect(existsSync(adopted[0]!.file)).toBe(false);
    expect((await readdir(path.join(t.dataDir, 'blobs', 'tmp'))).filter((f) => f.endsWith('.zip'))).toEqual([]);

    const zip = await download(ws.key, pkg.id);
    expect(zip.status).toBe(200);
    expect(zip.body.length).toBe(pkg.bytes);
    expect(sha256(zip.body)).toBe(pkg.sha256);
  });

  it('expires a package after its time to live: the file is deleted, the package reads as expired and its download is a 410 problem', async () => {
    const ws = await newWorkspace(t, `expiry-${backend}`);
    const first = await built(ws.call);
    const second = await built(ws.call);
    expect(Date.parse(first.expires_at) - Date.parse(first.completed_at)).toBe(TTL_MS);
    expect(Date.parse(second.expires_at)).toBeGreaterThan(Date.parse(first.expires_at) + 1);
    expect(existsSync(blobFile(first.sha256))).toBe(true);

    const store = new EvidencePackageStore(t.hub.db, t.config.evidencePackages);
    // Nothing is due yet.
    expect((await store.expireDue(t.hub.blobs)).expired.map((p) => p.id)).not.toContain(first.id);
    // The clock moves on past the first package's expiry, not the second's.
    const result = await store.expireDue(t.hub.blobs, new Date(Date.parse(first.expires_at) + 1));
    expect(result.expired.filter((p) => p.workspace_id === ws.id)).toEqual([{ id: first.id, workspace_id: ws.id, sha256: first.sha256, bytes: first.bytes, file_deleted: true }]);
    expect(existsSync(blobFile(first.sha256))).toBe(false);

    const read = await ws.call('GET', `/api/v1/evidence-packages/${first.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: first.id, status: 'expired', download_url: null, sha256: first.sha256 });
    expect(read.body.expired_at).not.toBeNull();
    const gone = await download(ws.key, first.id);
    expect(gone.status).toBe(410);
    expect(gone.type).toContain('application/problem+json');
    const problem = JSON.parse(gone.body.toString('utf8'));
    expect(problem).toMatchObject({ status: 410, title: 'Gone' });
    expect(problem.type).toMatch(/\/evidence-package-expired$/);
    expect(problem.detail).toContain('2 days');
    expect((await ws.call('GET', '/api/v1/evidence-packages')).body.data.find((p: { id: string }) => p.id === first.id)).toMatchObject({ status: 'expired' });

    // The other package is untouched and downloads; the expiry is on the record.
    expect((await download(ws.key, second.id)).status).toBe(200);
    const audit = await ws.call('GET', `/api/v1/audit-log?action=evidence_package.expired&resource_id=${first.id}`);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor: { type: 'system' }, changes: { sha256: first.sha256, file_deleted: true } });
    // A second pass at the same time changes nothing.
    expect((await store.expireDue(t.hub.blobs, new Date(Date.parse(first.expires_at) + 1))).expired.filter((p) => p.workspace_id === ws.id)).toEqual([]);

    // A package ready before expiry existed (no expires_at) gets completed_at + the time to live.
    await t.hub.db.query('UPDATE evidence_packages SET expires_at = NULL WHERE id = $1', [second.id]);
    await store.expireDue(t.hub.blobs, new Date(Date.parse(second.completed_at) + TTL_MS - 60_000));
    expect((await ws.call('GET', `/api/v1/evidence-packages/${second.id}`)).body).toMatchObject({ status: 'ready', expires_at: second.expires_at });
    await store.expireDue(t.hub.blobs, new Date(Date.parse(second.completed_at) + TTL_MS + 1));
    expect((await ws.call('GET', `/api/v1/evidence-packages/${second.id}`)).body.status).toBe('expired');
    expect((await download(ws.key, second.id)).status).toBe(410);
  });

  it('refuses a package over the workspace’s count quota with a 409 quota-exceeded problem, also under concurrent requests; deleting one frees its place', async () => {
    const ws = await newWorkspace(t, `quota-count-${backend}`);
    const accepted: string[] = [];
    for (let i = 0; i < QUOTA_COUNT; i++) {
      const res = await request(ws.call);
      expect(res.status, res.text).toBe(202);
      accepted.push(res.body.id);
    }
    const over = await request(ws.call);
    expect(over.status, over.text).toBe(409);
    expect(over.headers.get('content-type')).toContain('application/problem+json');
    expect(over.headers.get('retry-after')).toBeNull();
    expect(over.body).toMatchObject({ status: 409, title: 'Quota Exceeded' });
    expect(over.body.type).toMatch(/\/quota-exceeded$/);
    expect(over.body.detail).toContain(`its quota is ${QUOTA_COUNT}`);
    // Another workspace has a quota of its own.
    const other = await newWorkspace(t, `quota-other-${backend}`);
    expect((await request(other.call)).status).toBe(202);

    for (const id of accepted) await settled(ws.call, id);
    // A package being built cannot be deleted; a ready one can, which frees one place ...
    const store = new EvidencePackageStore(t.hub.db);
    const queuedId = newId('pkg');
    await store.create({ id: queuedId, workspaceId: other.id, from: new Date(PERIOD.from), to: new Date(PERIOD.to), filters: {}, workflowId: `test-${queuedId}`, requestedBy: null });
    expect((await other.call('DELETE', `/api/v1/evidence-packages/${queuedId}`)).status).toBe(409);
    const removed = await ws.call('DELETE', `/api/v1/evidence-packages/${accepted[0]}`);
    expect(removed.status, removed.text).toBe(204);
    expect((await ws.call('GET', `/api/v1/evidence-packages/${accepted[0]}`)).status).toBe(404);
    expect((await ws.call('GET', `/api/v1/audit-log?action=evidence_package.deleted&resource_id=${accepted[0]}`)).body.data).toHaveLength(1);
    // ... which exactly one of three simultaneous requests takes.
    const racing = await Promise.all([request(ws.call), request(ws.call), request(ws.call)]);
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    for (const res of racing.filter((r) => r.status === 409)) expect(res.body.type).toMatch(/\/quota-exceeded$/);
    await settled(ws.call, racing.find((r) => r.status === 202)!.body.id);
  });

  it('refuses a package while the workspace’s ready packages take its byte quota, with the same 409 problem', async () => {
    const ws = await newWorkspace(t, `quota-bytes-${backend}`);
    await insertEvidence(ws.id, 2, 150_000);
    const big = await built(ws.call);
    expect(big.bytes).toBeGreaterThan(QUOTA_BYTES);
    const over = await request(ws.call);
    expect(over.status, over.text).toBe(409);
    expect(over.body.type).toMatch(/\/quota-exceeded$/);
    expect(over.body.detail).toContain(`${QUOTA_BYTES} bytes`);
    // Once it expires, its bytes no longer count.
    await new EvidencePackageStore(t.hub.db, t.config.evidencePackages).expireDue(t.hub.blobs, new Date(Date.parse(big.expires_at) + 1));
    const again = await request(ws.call);
    expect(again.status, again.text).toBe(202);
    await settled(ws.call, again.body.id);
  });
});
