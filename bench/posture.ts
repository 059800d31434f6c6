/**
 * Posture benchmark: GET /api/v1/checks (filtered pages), a check's history, GET /api/v1/posture,
 * the frameworks and a framework's coverage over 50 000 checks with 20 results each (1 000 000 ledger items), against
 * GET /api/v1/me (the same middleware, no posture query) in the same run. Target: p99 < 100 ms
 * on PostgreSQL: `DATABASE_URL=postgres://… npm run bench -- posture` (without it, PGlite).
 */
import { startBenchApi } from './api-app.js';
import { load, table } from './util.js';

const CHECKS = Number(process.env.BENCH_CHECKS ?? 50_000);
const RESULTS_PER_CHECK = 20;
const JOBS = 50;

export async function runPostureBench(options: { seconds?: number } = {}): Promise<void> {
  const seconds = options.seconds ?? Number(process.env.BENCH_SECONDS ?? 5);
  const api = await startBenchApi();
  const started = Date.now();
  // The ledger in bulk, as set-based SQL: each check's 20 results, the latest of which the check row holds.
  await api.db.query(
    `INSERT INTO evidence (id, workspace_id, run_id, job_id, rule_id, dataset, control_ref, title, source, result, payload, payload_sha256, collected_at, observed_at, status, identity)
     SELECT 'ev_' || lpad(c::text, 6, '0') || '_' || lpad(r::text, 2, '0'), 'default', 'run_' || r, 'job_' || (c % $2), 'rule_' || c, 'bench.data', 'Control ' || (c % 40),
            'Result ' || r || ' of check ' || c, 'bench', CASE WHEN (c + r) % 5 = 0 THEN 'fail' ELSE 'pass' END, '{}', repeat('0', 64),
            now() - (20 - r) * interval '1 day', now() - (20 - r) * interval '1 day', 'delivered', 'bench:' || c || ':' || r
       FROM generate_series(1, $1::int) AS c, generate_series(1, ${RESULTS_PER_CHECK}) AS r`,
    [CHECKS, JOBS],
  );
  await api.db.query(
    `INSERT INTO checks (workspace_id, id, job_id, rule_id, connection_id, control_ref, question_match, title, refs, result, evidence_id, observed_at, failing_count, fresh_until, changed_at)
     SELECT 'default', 'job_' || (c % $2) || '.rule_' || c, 'job_' || (c % $2), 'rule_' || c, 'con_' || (c % 10), 'Control ' || (c % 40), NULL, 'Result 20 of check ' || c,
            jsonb_build_object('soc2', jsonb_build_array('CC' || (1 + c % 9) || '.1'), 'iso27001', jsonb_build_array('8.' || (1 + c % 34))),
            CASE WHEN (c + 20) % 5 = 0 THEN 'fail' ELSE 'pass' END, 'ev_' || lpad(c::text, 6, '0') || '_20', now(), (c % 3),
            now() + CASE WHEN c % 7 = 0 THEN interval '-1 day' ELSE interval '2 days' END, now() - interval '3 days'
       FROM generate_series(1, $1::int) AS c`,
    [CHECKS, JOBS],
  );
  await api.db.query(
    `INSERT INTO check_requirements (workspace_id, check_id, framework, requirement, result, fresh_until)
     SELECT 'default', id, 'soc2', refs->'soc2'->>0, result, fresh_until FROM checks
     UNION ALL SELECT 'default', id, 'iso27001', refs->'iso27001'->>0, result, fresh_until FROM checks`,
  );
  await api.db.query(`UPDATE checks SET frameworks = ARRAY['soc2', 'iso27001']`);
  await api.db.query('ANALYZE evidence; ANALYZE checks; ANALYZE check_requirements');
  const seededMs = Date.now() - started;

  const auth = { 'x-api-key': api.adminKey };
  const url = (path: string) => `${api.url}${path}`;
  const cases: [string, string][] = [
    ['GET /api/v1/me (baseline)', '/api/v1/me'],
    ['GET /api/v1/checks?limit=100', '/api/v1/checks?limit=100'],
    ['GET /api/v1/checks?status=fail&limit=100', '/api/v1/checks?status=fail&limit=100'],
    ['GET /api/v1/checks?framework=iso27001&status=stale', '/api/v1/checks?framework=iso27001&status=stale&limit=100'],
    ['GET /api/v1/checks/:id/history', `/api/v1/checks/job_7.rule_1007/history`],
    ['GET /api/v1/posture', '/api/v1/posture'],
    ['GET /api/v1/frameworks', '/api/v1/frameworks'],
    ['GET /api/v1/frameworks/soc2?covered=true', '/api/v1/frameworks/soc2?covered=true'],
  ];
  for (const [, path] of cases) await load(url(path), { headers: auth, seconds: 1, connections: 4 });
  const rows: Record<string, string | number>[] = [];
  let baseline = 0;
  for (const [name, path] of cases) {
    const r = await load(url(path), { headers: auth, seconds, connections: 4 });
    if (r.errors || r.non2xx) throw new Error(`${name}: the hub answered errors during the benchmark: ${JSON.stringify(r)}`);
    if (!baseline) baseline = r.p99;
    rows.push({ case: name, 'req/s': Math.round(r.requestsPerSecond), 'p50 ms': r.p50, 'p99 ms': r.p99, 'p99 / baseline': (r.p99 / Math.max(1, baseline)).toFixed(1) });
  }
  console.log(`\n## Posture: ${CHECKS} checks × ${RESULTS_PER_CHECK} results (${api.db.kind}, seeded in ${(seededMs / 1000).toFixed(1)} s), 4 connections`);
  table(rows);
  const worst = Math.max(...rows.slice(1).map((r) => Number(r['p99 ms'])));
  console.log(`posture: worst p99 ${worst} ms over the posture reads (target < 100 ms on PostgreSQL), ${(worst / Math.max(1, baseline)).toFixed(1)}× the /me baseline p99`);
  await api.close();
}
