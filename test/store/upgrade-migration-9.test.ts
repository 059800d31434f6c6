import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect } from '../helpers/collect.js';
import { openDb } from '../../store/db.js';
import { migrate } from '../../store/migrate.js';
import { migrations } from '../../store/migrations/index.js';

// A hub started over a data directory that the previous version left (migrations up to 8):
// migration 9 gives each job its own incremental cursor and takes the generic HTTP
// connector's custom headers out of config.

const TENANT = 'tenant-3f9c1e7a5b';
const usersDataset = { name: 'users', path: '/api/v1/users', query: { limit: '200' }, pagination: { type: 'link_header' } };

describe('upgrading to migration 9', () => {
  let t: TestHub | undefined;
  let okta: OktaSimulator;
  let dataDir: string;
  beforeAll(async () => {
    okta = await startOktaSimulator({ population: { total: 60, deprovisioned: 0 }, rateLimit: false });
    // A data directory as the previous version left it: migrations up to 8, a connection with headers in config.
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'hub-upgrade-'));
    const db = await openDb({ databaseUrl: null, dataDir });
    await migrate(db, migrations.filter((m) => m.version < 9));
    await db.query(`INSERT INTO workspaces (id, name) VALUES ('default', 'Default')`);
    await db.query(`INSERT INTO connections (id, workspace_id, name, type, config) VALUES ('conn_legacy', 'default', 'legacy', 'http', $1)`, [
      JSON.stringify({ base_url: okta.url, auth: { type: 'none' }, headers: { Authorization: `SSWS ${okta.apiToken}`, 'X-Okta-Tenant': TENANT }, datasets: [usersDataset] }),
    ]);
    // Two runs of a job and a collection on its own, each with a System Log snapshot.
    await db.query(`INSERT INTO runs (id, workspace_id, job_id, trigger, status, workflow_id) VALUES
      ('run_1', 'default', 'job_a', 'api', 'succeeded', 'wf-run-1'), ('run_2', 'default', 'job_a', 'schedule', 'succeeded', 'wf-run-2')`);
    await db.query(`INSERT INTO collections (id, workspace_id, connection_id, datasets, status, workflow_id) VALUES ('col_1', 'default', 'conn_okta', '{okta.system_log}', 'succeeded', 'wf-col-1')`);
    await db.query(`INSERT INTO snapshots (id, workspace_id, connection_id, dataset, sha256, bytes, record_count, collected_at, collection_key) VALUES
      ('snap_1', 'default', 'conn_okta', 'okta.system_log', 'a', 0, 0, '2025-01-01T00:00:00Z', 'run_1:okta.system_log'),
      ('snap_2', 'default', 'conn_okta', 'okta.system_log', 'b', 0, 0, '2025-01-02T00:00:00Z', 'run_2:okta.system_log'),
      ('snap_3', 'default', 'conn_okta', 'okta.system_log', 'c', 0, 0, '2025-01-03T00:00:00Z', 'col_1:okta.system_log')`);
    await db.close();
    t = await startTestHub({ dataDir });
  });
  afterAll(async () => { await okta?.close(); await t?.stop(); await rm(dataDir, { recursive: true, force: true }); });

  it('each job keeps the cursor of its own last run, collections on their own that of theirs', async () => {
    const rows = await t!.hub.db.query<{ connection_id: string; dataset: string; job_id: string; since: Date }>('SELECT connection_id, dataset, job_id, since FROM collection_cursors ORDER BY job_id');
    expect(rows.map((r) => ({ ...r, since: new Date(r.since).toISOString() }))).toEqual([
      { connection_id: 'conn_okta', dataset: 'okta.system_log', job_id: '', since: '2025-01-03T00:00:00.000Z' },
      { connection_id: 'conn_okta', dataset: 'okta.system_log', job_id: 'job_a', since: '2025-01-02T00:00:00.000Z' },
    ]);
  });

  it('HTTP custom headers: the values leave config; the connection names the secrets to set, and works once they are set', async () => {
    const call = t!.call;
    const fetched = await call('GET', '/api/v1/connections/conn_legacy');
    expect(fetched.status, fetched.text).toBe(200);
    expect(fetched.text).not.toContain(okta.apiToken);
    expect(fetched.text).not.toContain(TENANT);
    expect(fetched.body.config).not.toHaveProperty('headers');
    expect(fetched.body.config.legacy_header_names).toEqual(['Authorization', 'X-Okta-Tenant']);

    // Until each is a secret, the connection says which ones to set (and sends nothing).
    const mark = okta.requests.length;
    const test = await call('POST', '/api/v1/connections/conn_legacy/test');
    expect(test.body).toMatchObject({ ok: false, error: { kind: 'bad_config' } });
    expect(test.body.error.message).toMatch(/header:Authorization, header:X-Okta-Tenant/);
    const failed = await collect(call, 'conn_legacy', ['http.users']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/header:Authorization/);
    expect(okta.requests.length).toBe(mark);

    const patched = await call('PATCH', '/api/v1/connections/conn_legacy', {
      json: { config: { legacy_header_names: null }, secrets: { 'header:Authorization': `SSWS ${okta.apiToken}`, 'header:X-Okta-Tenant': TENANT } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.config).not.toHaveProperty('legacy_header_names');
    expect((await call('POST', '/api/v1/connections/conn_legacy/test')).body).toMatchObject({ ok: true });
    const result = await collect(call, 'conn_legacy', ['http.users']);
    expect(result.status, result.error ?? '').toBe('succeeded');
    expect(result.snapshots[0]!.record_count).toBe(60);
  });
});
