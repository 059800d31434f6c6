import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unzip } from '../helpers/zip.js';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { caller, eventually, newWorkspace, startTestHub, type ApiCaller, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { canonicalJson, canonicalSha256 } from '../../lib/canonical-json.js';
import { entryHash } from '../../lib/audit-chain.js';
import { newId } from '../../lib/ids.js';
import { AuditLogStore, type AuditLogEntry } from '../../store/audit-log/index.js';
import { EvidenceStore } from '../../store/evidence.js';
import { PAGE_PAYLOAD_BUDGET, EvidencePackageStore } from '../../store/evidence-packages.js';
import { openPostgres, type Db } from '../../store/db.js';
import { migrate } from '../../store/migrate.js';
import { freshPostgresDatabase } from '../helpers/hub.js';
import { EVIDENCE_PAGE_SIZE } from '../../activities/evidence-package-writer.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');


async function download(t: TestHub, path: string, key: string): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(t.url + path, { headers: { 'x-api-key': key } });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/**
 * `count` items of one job straight into the ledger, 7 to a millisecond: several share a
 * collected_at to the microsecond and several differ by microseconds only, which is what a
 * keyset cursor on (collected_at, id) must page through without repeating or skipping.
 */
async function insertBulkEvidence(db: Db, workspaceId: string, jobId: string, count: number, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO evidence (id, workspace_id, job_id, rule_id, control_ref, title, source, result, payload, payload_sha256, collected_at, status, identity)
     SELECT $2 || '_' || lpad(i::text, 6, '0'), $1, $2, 'bulk', 'Bulk', 'Bulk item ' || i, 'test', 'info', jsonb_build_object('i', i),
            encode(sha256(convert_to('{"i":' || i || '}', 'UTF8')), 'hex'), $3::timestamptz + ((i % 7) / 3) * interval '1 microsecond', 'delivered', 'bulk:' || $2 || ':' || i
     FROM generate_series(1, $4::int) AS i`,
    [workspaceId, jobId, at.toISOString(), count],
  );
}

/** Every id the keyset pages return for one job, in order. */
async function pageThrough(db: Db, workspaceId: string, jobId: string, from: Date, to: Date): Promise<string[]> {
  const store = new EvidencePackageStore(db);
  const ids: string[] = [];
  let cursor = null;
  do {
    const page = await store.evidencePage({ workspaceId, from, to, filters: { job_ids: [jobId] } }, cursor, 100);
    ids.push(...page.rows.map((r) => r.id));
    cursor = page.next;
  } while (cursor);
  return ids;
}

async function waitUntilSettled(call: ApiCaller, id: string) {
  return eventually(async () => {
    const res = await call('GET', `/api/v1/evidence-packages/${id}`);
    expect(res.status, res.text).toBe(200);
    return ['queued', 'building'].includes(res.body.status) ? null : res.body;
  }, { timeoutMs: 120_000, intervalMs: 250 });
}

describe('evidence packages for auditors', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let workspaceId: string;
  let jobA: string;
  let jobB: string;
  let runA: { id: string };
  let runB: { id: string };
  let from: string;
  let to: string;
  let outsideId: string;
  let auditEntries: AuditLogEntry[];

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200' } });
    okta = await startOktaSimulator({ population: { total: 30 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    from = new Date(Date.now() - 60_000).toISOString();

    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token', enrich: false }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', {
      json: {
        name: 'package rules',
        rules: [
          { id: 'lockout', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Users at {{dataset}}', mode: 'info', payload: { users: { count: '$' } } },
          { id: 'user-list', dataset: 'okta.users', control_ref: 'Identity', question_match: 'MFA enforced for all user', title: 'User list', mode: 'info', payload: { users: { list: '$[*]', fields: ['login'] } } },
        ],
      },
    });
    expect(mapping.status, mapping.text).toBe(201);
    const job = async (name: string) => {
      const res = await t.call('POST', '/api/v1/jobs', { json: { name, connection_id: connection, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } } });
      expect(res.status, res.text).toBe(201);
      return res.body.id as string;
    };
    jobA = await job('job A');
    jobB = await job('job B');
    runA = await runToEnd(t.call, jobA);
    runB = await runToEnd(t.call, jobB);
    [{ workspace_id: workspaceId }] = await t.hub.db.query<{ workspace_id: string }>('SELECT workspace_id FROM jobs WHERE id = $1', [jobA]) as [{ workspace_id: string }];

    // An item of job A collected long before the period: never in the package.
    outsideId = newId('ev');
    await new EvidenceStore(t.hub.db).recordMany([{
      id: outsideId, workspaceId, run_id: null, job_id: jobA, rule_id: 'lockout', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout',
      question_id: null, title: 'From an earlier audit', source: 'test', result: 'info', payload: { old: true }, payload_sha256: canonicalSha256({ old: true }),
      collected_at: new Date('2001-01-01T00:00:00Z'), allow_multiple: false, destination_id: null, target: null, identity: `test:${outsideId}`, status: 'delivered',
    }]);

    const log = new AuditLogStore(t.hub.db);
    auditEntries = [];
    for (const action of ['auditor.invited', 'control.reviewed', 'evidence.exported']) {
      auditEntries.push(await log.appendOwnTx({ workspaceId, actor: { type: 'system', id: 'package-test', name: 'Package test' }, action, resourceType: 'test', resourceId: action, changes: { note: `${action} during the period` } }));
    }
    to = new Date(Date.now() + 60_000).toISOString();
  }, 240_000);
  afterAll(async () => { await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('builds a package whose every file matches its manifest, with the period’s evidence of the chosen jobs, their snapshots, runs and the audit log', async () => {
    const created = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to, job_ids: [jobA] } });
    expect(created.status, created.text).toBe(202);
    expect(created.headers.get('location')).toBe(`/api/v1/evidence-packages/${created.body.id}`);
    expect(created.body).toMatchObject({ status: 'queued', from, to, filters: { job_ids: [jobA] }, item_count: null, sha256: null, error: null });

    const pkg = await waitUntilSettled(t.call, created.body.id);
    expect(pkg, JSON.stringify(pkg)).toMatchObject({ status: 'ready', item_count: 2, error: null });
    expect(pkg.completed_at).not.toBeNull();

    const zip = await download(t, `/api/v1/evidence-packages/${pkg.id}/download`, t.adminKey);
    expect(zip.status).toBe(200);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    expect(zip.headers.get('content-disposition')).toBe(`attachment; filename="evidence-package-${pkg.id}.zip"`);
    expect(Number(zip.headers.get('content-length'))).toBe(pkg.bytes);
    expect(zip.body.length).toBe(pkg.bytes);
    expect(sha256(zip.body)).toBe(pkg.sha256);
    const files = await unzip(zip.body);

    // The manifest lists every other file with its size and SHA-256, and its hash recomputes.
    const manifestBytes = files.get('manifest.json')!;
    expect(sha256(manifestBytes)).toBe(pkg.manifest_sha256);
    const manifest = JSON.parse(manifestBytes.toString('utf8'));
    expect(manifest.package).toMatchObject({ id: pkg.id, period: { from, to }, filters: { job_ids: [jobA] } });
    expect(manifest.verification_method.description).toContain('RFC 8785');
    const listed = manifest.files as { path: string; size: number; sha256: string }[];
    expect(new Set(listed.map((f) => f.path))).toEqual(new Set([...files.keys()].filter((p) => p !== 'manifest.json')));
    for (const file of listed) {
      expect(files.get(file.path)!.length, file.path).toBe(file.size);
      expect(sha256(files.get(file.path)!), file.path).toBe(file.sha256);
    }
    expect(sha256(canonicalJson(listed))).toBe(manifest.verification_hash);
    expect(manifest.verification_hash).toBe(pkg.verification_hash);
    expect(pkg.file_count).toBe(files.size);

    // Exactly job A's items of the period, each with its payload and payload hash.
    const ledger = await t.call('GET', `/api/v1/evidence?job_id=${jobA}&limit=500`);
    const expected = ledger.body.data.filter((e: { id: string }) => e.id !== outsideId).map((e: { id: string }) => e.id).sort();
    expect(expected).toHaveLength(2);
    const packaged = evidenceOf(files);
    expect([...packaged.keys()].sort()).toEqual(expected);
    expect(packaged.has(outsideId)).toBe(false);
    for (const id of expected) {
      const item = packaged.get(id)!;
      const api = await t.call('GET', `/api/v1/evidence/${id}`);
      expect(item).toMatchObject({ id, job_id: jobA, run_id: runA.id, control_ref: api.body.control_ref, payload: api.body.payload, payload_sha256: api.body.payload_sha256 });
      expect(canonicalSha256(item.payload)).toBe(item.payload_sha256);
    }
    const jobBItems = (await t.call('GET', `/api/v1/evidence?job_id=${jobB}`)).body.data as { id: string }[];
    expect(jobBItems.length).toBeGreaterThan(0);
    for (const item of jobBItems) expect(packaged.has(item.id)).toBe(false);

    // The run of those items, and the snapshot it evaluated, whole.
    expect([...files.keys()].filter((p) => p.startsWith('runs/'))).toEqual([`runs/${runA.id}.json`]);
    const run = JSON.parse(files.get(`runs/${runA.id}.json`)!.toString('utf8'));
    expect(run).toMatchObject({ id: runA.id, job_id: jobA });
    expect(run.snapshots).toHaveLength(1);
    const snapshotFiles = [...files.keys()].filter((p) => p.startsWith('snapshots/'));
    expect(snapshotFiles).toEqual(run.snapshots.map((s: { id: string }) => `snapshots/${s.id}.ndjson`));
    for (const snapshot of run.snapshots as { id: string; path: string; sha256: string; record_count: number }[]) {
      const content = files.get(snapshot.path)!;
      const records = content.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { login?: string });
      expect(records).toHaveLength(snapshot.record_count);
      expect(records).toHaveLength(30);
      expect(sha256(content)).toBe(snapshot.sha256);
    }

    // The audit log of the period: our entries, each still hashing to its stored hash, and its verification.
    const lines = files.get('audit-log.ndjson')!.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditLogEntry & { occurred_at: string });
    for (const entry of auditEntries) expect(lines.map((l) => l.id)).toContain(entry.id);
    for (const line of lines) {
      expect(line.occurred_at >= from && line.occurred_at <= to, line.occurred_at).toBe(true);
      expect(entryHash({ ...line, occurred_at: new Date(line.occurred_at) })).toBe(line.hash);
    }
    expect(lines.map((l) => l.action)).toContain('evidence_package.requested');
    const verification = JSON.parse(files.get('audit-log-verification.json')!.toString('utf8'));
    expect(verification).toMatchObject({ verified: true, chain_valid: true, logs_checked: lines.length, hash_mismatches: 0, gaps_detected: 0 });
    expect(manifest.contents).toMatchObject({ evidence_items: 2, runs: 1, snapshots: 1, audit_log_entries: lines.length });

    // The download itself is on the record.
    const downloads = await t.call('GET', `/api/v1/audit-log?action=evidence_package.downloaded&resource_id=${pkg.id}`);
    expect(downloads.body.data).toHaveLength(1);
  });

  it('control_refs narrows the evidence; the list shows packages newest first', async () => {
    const created = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to, control_refs: ['Identity'] } });
    expect(created.status, created.text).toBe(202);
    const pkg = await waitUntilSettled(t.call, created.body.id);
    expect(pkg).toMatchObject({ status: 'ready', item_count: 2 });
    const files = await unzip((await download(t, `/api/v1/evidence-packages/${pkg.id}/download`, t.adminKey)).body);
    const items = [...evidenceOf(files).values()] as { control_ref: string; job_id: string }[];
    expect(items.map((i) => i.control_ref)).toEqual(['Identity', 'Identity']);
    expect(new Set(items.map((i) => i.job_id))).toEqual(new Set([jobA, jobB]));
    expect([...files.keys()].filter((p) => p.startsWith('runs/')).sort()).toEqual([`runs/${runA.id}.json`, `runs/${runB.id}.json`].sort());

    const list = await t.call('GET', '/api/v1/evidence-packages?limit=1');
    expect(list.body.data.map((p: { id: string }) => p.id)).toEqual([pkg.id]);
    expect(list.body.next_cursor).not.toBeNull();
    const next = await t.call('GET', `/api/v1/evidence-packages?limit=1&cursor=${list.body.next_cursor}`);
    expect(next.body.data).toHaveLength(1);
  });

  it('pages through more items than one query reads, each exactly once', async () => {
    const count = EVIDENCE_PAGE_SIZE * 2 + 7;
    const at = new Date(Date.now() - 30_000);
    await insertBulkEvidence(t.hub.db, workspaceId, 'job_bulk', count, at);
    const ids = await pageThrough(t.hub.db, workspaceId, 'job_bulk', new Date(from), new Date(to));
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);

    const created = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to, job_ids: ['job_bulk'] } });
    const pkg = await waitUntilSettled(t.call, created.body.id);
    expect(pkg).toMatchObject({ status: 'ready', item_count: count, file_count: 4 });
    const files = await unzip((await download(t, `/api/v1/evidence-packages/${pkg.id}/download`, t.adminKey)).body);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    expect(manifest.files.map((f: { path: string }) => f.path)).toContain('evidence.ndjson');
    expect(sha256(canonicalJson(manifest.files))).toBe(manifest.verification_hash);
    const packaged = evidenceOf(files);
    expect(packaged.size).toBe(count);
    const sample = packaged.get('job_bulk_000500')!;
    expect(canonicalSha256(sample.payload)).toBe(sample.payload_sha256);
  });

  it('an empty period still gives a valid package', async () => {
    const created = await t.call('POST', '/api/v1/evidence-packages', { json: { from: '1999-01-01', to: '1999-12-31' } });
    const pkg = await waitUntilSettled(t.call, created.body.id);
    expect(pkg).toMatchObject({ status: 'ready', item_count: 0, from: '1999-01-01T00:00:00.000Z', to: '1999-12-31T23:59:59.999Z' });
    const files = await unzip((await download(t, `/api/v1/evidence-packages/${pkg.id}/download`, t.adminKey)).body);
    expect([...files.keys()].sort()).toEqual(['audit-log-verification.json', 'audit-log.ndjson', 'evidence.ndjson', 'manifest.json']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString('utf8'));
    expect(sha256(canonicalJson(manifest.files))).toBe(manifest.verification_hash);
  });

  it('download answers 409 while a package is not ready', async () => {
    const store = new EvidencePackageStore(t.hub.db);
    const id = newId('pkg');
    await store.create({ id, workspaceId, from: new Date(from), to: new Date(to), filters: {}, workflowId: `test-${id}`, requestedBy: null });
    const queued = await t.call('GET', `/api/v1/evidence-packages/${id}/download`);
    expect(queued.status).toBe(409);
    expect(queued.headers.get('content-type')).toContain('application/problem+json');
    expect(queued.headers.get('retry-after')).toBe('5');
    expect(queued.body.detail).toContain('queued');
    await store.markFailed(id, 'the disk was full');
    const failed = await t.call('GET', `/api/v1/evidence-packages/${id}/download`);
    expect(failed.status).toBe(409);
    expect(failed.body.detail).toContain('the disk was full');
    expect((await t.call('GET', `/api/v1/evidence-packages/${id}`)).body).toMatchObject({ status: 'failed', error: 'the disk was full' });
  });

  it('another workspace sees none of it: 404', async () => {
    const created = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to } });
    const pkg = await waitUntilSettled(t.call, created.body.id);
    const other = await newWorkspace(t, 'package-other');
    expect((await other.call('GET', `/api/v1/evidence-packages/${pkg.id}`)).status).toBe(404);
    expect((await download(t, `/api/v1/evidence-packages/${pkg.id}/download`, other.key)).status).toBe(404);
    expect((await other.call('GET', '/api/v1/evidence-packages')).body.data).toEqual([]);
    // Its own package of the same period holds none of this workspace's evidence.
    const own = await other.call('POST', '/api/v1/evidence-packages', { json: { from, to } });
    expect((await waitUntilSettled(other.call, own.body.id)).item_count).toBe(0);
  });

  it('rejects bad input with a 400 problem, checks scopes and honours Idempotency-Key', async () => {
    const bad = async (json: unknown, pointer: string) => {
      const res = await t.call('POST', '/api/v1/evidence-packages', { json });
      expect(res.status, res.text).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    };
    await bad({ from: 'last quarter', to }, '/from');
    await bad({ from, to: '2026-13-45' }, '/to');
    await bad({ from: to, to: from }, '/to');
    await bad({ from, to, format: 'zip' }, '/format');
    await bad({ to }, '/from');
    await bad({ from, to, job_ids: 'job_1' }, '/job_ids');
    await bad({ from, to, control_refs: [] }, '/control_refs');

    const auditor = await t.call('POST', '/api/v1/api-keys', { json: { name: 'auditor', scopes: ['audit:read'] } });
    const asAuditor = caller(t.url, auditor.body.key);
    // A package holds evidence and the audit log: one of the two scopes is not enough.
    expect((await asAuditor('POST', '/api/v1/evidence-packages', { json: { from, to } })).status).toBe(403);
    const reader = await t.call('POST', '/api/v1/api-keys', { json: { name: 'evidence reader', scopes: ['evidence:read'] } });
    expect((await caller(t.url, reader.body.key)('POST', '/api/v1/evidence-packages', { json: { from, to } })).status).toBe(403);
    const both = await t.call('POST', '/api/v1/api-keys', { json: { name: 'auditor with evidence', scopes: ['audit:read', 'evidence:read'] } });
    const byAuditor = await caller(t.url, both.body.key)('POST', '/api/v1/evidence-packages', { json: { from, to } });
    expect(byAuditor.status, byAuditor.text).toBe(202);
    expect((await asAuditor('GET', `/api/v1/evidence-packages/${byAuditor.body.id}/download`)).status).toBe(403);
    const runner = await t.call('POST', '/api/v1/api-keys', { json: { name: 'runner', scopes: ['runs:read'] } });
    expect((await caller(t.url, runner.body.key)('POST', '/api/v1/evidence-packages', { json: { from, to } })).status).toBe(403);
    expect((await caller(t.url, runner.body.key)('GET', `/api/v1/evidence-packages/${byAuditor.body.id}/download`)).status).toBe(403);

    const headers = { 'Idempotency-Key': `pkg-${newId('k')}` };
    const first = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to }, headers });
    const again = await t.call('POST', '/api/v1/evidence-packages', { json: { from, to }, headers });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect((await t.call('POST', '/api/v1/evidence-packages', { json: { from, to: from }, headers })).status).toBe(409);
    await waitUntilSettled(t.call, first.body.id);
    await waitUntilSettled(t.call, byAuditor.body.id);
  });
});

describe('evidence package paging on PostgreSQL', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openPostgres(await freshPostgresDatabase());
    await migrate(db);
    await db.query(`INSERT INTO workspaces (id, name) VALUES ('ws_pg', 'pg')`);
  });
  afterAll(async () => { await db?.close(); });

  it('the keyset on (collected_at, id) returns every item of the period once, microseconds and ties included', async () => {
    const at = new Date('2026-03-01T12:00:00.123Z');
    await insertBulkEvidence(db, 'ws_pg', 'job_pg', 1_003, at);
    await insertBulkEvidence(db, 'ws_pg', 'job_other', 10, at);
    const ids = await pageThrough(db, 'ws_pg', 'job_pg', new Date('2026-03-01T00:00:00Z'), new Date('2026-03-01T23:59:59Z'));
    expect(ids).toHaveLength(1_003);
    expect(new Set(ids).size).toBe(1_003);
    expect(await pageThrough(db, 'ws_pg', 'job_pg', new Date('2026-03-02T00:00:00Z'), new Date('2026-03-03T00:00:00Z'))).toEqual([]);
  });

  it('a page holds at most the payload byte budget (beyond its first row), and every large item still comes once', async () => {
    const at = new Date('2026-04-01T12:00:00Z');
    // Seven items of 3 MB each: a page of 100 rows would hold 21 MB of payload.
    await db.query(
      `INSERT INTO evidence (id, workspace_id, job_id, rule_id, control_ref, title, source, result, payload, payload_sha256, collected_at, status, identity)
       SELECT 'big_' || i, 'ws_pg', 'job_big', 'big', 'Big', 'Big ' || i, 'test', 'info', jsonb_build_object('blob', repeat('x', 3 * 1024 * 1024)), 'x',
              $1::timestamptz + i * interval '1 second', 'delivered', 'big:' || i
       FROM generate_series(1, 7) AS i`,
      [at.toISOString()],
    );
    const store = new EvidencePackageStore(db);
    const sizes: number[] = [];
    const ids: string[] = [];
    let cursor = null;
    do {
      const page = await store.evidencePage({ workspaceId: 'ws_pg', from: at, to: new Date(at.getTime() + 60_000), filters: { job_ids: ['job_big'] } }, cursor, 100);
      sizes.push(page.rows.length);
      ids.push(...page.rows.map((r) => r.id));
      cursor = page.next;
    } while (cursor);
    expect(ids).toEqual(['big_1', 'big_2', 'big_3', 'big_4', 'big_5', 'big_6', 'big_7']);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil(PAGE_PAYLOAD_BUDGET / (3 * 1024 * 1024)));
  });
});

/** The package's evidence items (evidence.ndjson), by id. */
function evidenceOf(files: Map<string, Buffer>): Map<string, Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const lines = (files.get('evidence.ndjson') ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean);
  return new Map(lines.map((line) => {
    const item = JSON.parse(line) as { id: string };
    return [item.id, item];
  }));
}
