import Ajv2020 from 'ajv/dist/2020.js';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { eventually, newWorkspace, startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

// Posture is what the ledger says now, per check (a job's rule): an admin enrolling MFA
// between two runs turns the admin-MFA check from fail to pass, its history shows both, and
// subscribers hear control.recovered once, signed.
describe('checks: latest result, history and recovery', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let receiver: WebhookReceiver;
  let secret: string;
  let jobId: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms', HUB_DELIVERY_RETRY_INITIAL_MS: '100', HUB_DELIVERY_MAX_ATTEMPTS: '2' } });
    okta = await startOktaSimulator({ population: { total: 40, admins: 3, adminsWithoutMfa: 1 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    receiver = await WebhookReceiver.start();
    const hook = await t.call('POST', '/api/v1/webhooks', { json: { url: receiver.url, events: ['control.recovered'] } });
    expect(hook.status, hook.text).toBe(201);
    secret = hook.body.secret;
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'okta posture', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
  });
  afterAll(async () => { await receiver?.down(); await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('an admin enrols MFA between two runs: the admin-MFA check goes fail → pass, the history shows both, control.recovered arrives signed', async () => {
    const first = await runToEnd(t.call, jobId);
    const checks = await t.call('GET', `/api/v1/checks?job_id=${jobId}`);
    expect(checks.status, checks.text).toBe(200);
    const ruleIds = checks.body.data.map((c: { rule_id: string }) => c.rule_id);
    expect(ruleIds).toContain('okta-admin-mfa');
    const adminMfa = checks.body.data.find((c: { rule_id: string }) => c.rule_id === 'okta-admin-mfa');
    expect(adminMfa).toMatchObject({ status: 'fail', result: 'fail', failing_count: 1, job_id: jobId, control_ref: 'Access Control' });
    expect(Date.parse(adminMfa.fresh_until)).toBeGreaterThan(Date.now());
    const failingItem = await t.call('GET', `/api/v1/evidence/${adminMfa.evidence_id}`);
    expect(failingItem.body).toMatchObject({ run_id: first.id, result: 'fail' });
    expect((await t.call('GET', '/api/v1/checks?status=fail')).body.data.map((c: { id: string }) => c.id)).toContain(adminMfa.id);

    // The finding is fixed at the source.
    okta.enrolMfa(okta.truth().admins.idsWithoutMfa[0]!);
    const second = await runToEnd(t.call, jobId);
    const now = await t.call('GET', `/api/v1/checks/${encodeURIComponent(adminMfa.id)}`);
    expect(now.body).toMatchObject({ id: adminMfa.id, status: 'pass', result: 'pass', failing_count: 0 });
    expect(now.body.evidence_id).not.toBe(adminMfa.evidence_id);
    expect((await t.call('GET', '/api/v1/checks?status=fail')).body.data.map((c: { id: string }) => c.id)).not.toContain(adminMfa.id);

    const history = await t.call('GET', `/api/v1/checks/${encodeURIComponent(adminMfa.id)}/history`);
    expect(history.status, history.text).toBe(200);
    expect(history.body.data.map((h: { run_id: string; result: string; transition: unknown }) => [h.run_id, h.result, h.transition])).toEqual([
      [second.id, 'pass', { from: 'fail', to: 'pass' }],
      [first.id, 'fail', null],
    ]);
    const paged = await t.call('GET', `/api/v1/checks/${encodeURIComponent(adminMfa.id)}/history?limit=1`);
    expect(paged.body.data).toHaveLength(1);
    const rest = await t.call('GET', `/api/v1/checks/${encodeURIComponent(adminMfa.id)}/history?limit=1&cursor=${paged.body.next_cursor}`);
    expect(rest.body.data.map((h: { run_id: string }) => h.run_id)).toEqual([first.id]);
    expect(rest.body.next_cursor).toBeNull();

    const hook = await eventually(async () => receiver.received.find((h) => JSON.parse(h.body).type === 'control.recovered') ?? null, { timeoutMs: 30_000 });
    const event = new Webhook(secret).verify(hook.body, hook.headers) as { type: string; data: Record<string, unknown> };
    expect(event).toMatchObject({ type: 'control.recovered', data: { check_id: adminMfa.id, rule_id: 'okta-admin-mfa', previous_result: 'fail', result: 'pass', run_id: second.id } });
    // Once: only the admin-MFA check recovered (no other check failed and then passed).
    expect(receiver.received.filter((h) => JSON.parse(h.body).type === 'control.recovered')).toHaveLength(1);
  });

  it('posture counts the checks per status; another workspace sees none of them, and a wrong id is a 404 problem', async () => {
    const posture = await t.call('GET', '/api/v1/posture');
    expect(posture.status, posture.text).toBe(200);
    const total = Object.values(posture.body.checks as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe((await t.call('GET', `/api/v1/checks?job_id=${jobId}&limit=100`)).body.data.length);
    expect(posture.body.frameworks.soc2.pass + posture.body.frameworks.soc2.fail).toBeGreaterThan(0);
    const other = await newWorkspace(t, 'posture-other');
    expect((await other.call('GET', '/api/v1/checks')).body.data).toEqual([]);
    const check = (await t.call('GET', `/api/v1/checks?job_id=${jobId}&limit=1`)).body.data[0];
    const foreign = await other.call('GET', `/api/v1/checks/${encodeURIComponent(check.id)}`);
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
    expect((await t.call('GET', '/api/v1/checks?status=bogus')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/checks?cursor=%00%00')).status).toBe(400);
  });

  it('exports every check as OCSF Compliance Findings (NDJSON) that validate against class 2003, and as a CSV with one row per check', async () => {
    const all = (await t.call('GET', `/api/v1/checks?limit=100`)).body.data as { id: string; status: string; control_ref: string }[];
    const ocsf = await t.call('GET', '/api/v1/checks/export?format=ocsf');
    expect(ocsf.status, ocsf.text).toBe(200);
    expect(ocsf.headers.get('content-type')).toBe('application/x-ndjson');
    const findings = ocsf.text.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(findings).toHaveLength(all.length);
    // The required fields of the OCSF Compliance Finding class (2003), from its documentation.
    const complianceFinding = {
      type: 'object',
      required: ['activity_id', 'category_uid', 'class_uid', 'compliance', 'finding_info', 'metadata', 'severity_id', 'time', 'type_uid'],
      properties: {
        class_uid: { const: 2003 }, category_uid: { const: 2 }, activity_id: { enum: [0, 1, 2, 3, 99] }, type_uid: { const: 200301 },
        severity_id: { enum: [0, 1, 2, 3, 4, 5, 6, 99] }, time: { type: 'integer' }, status_id: { enum: [0, 1, 2, 3, 4, 99] },
        metadata: { type: 'object', required: ['version', 'product'], properties: { version: { type: 'string', pattern: '^1\\.\\d+\\.\\d+$' }, product: { type: 'object' } } },
        finding_info: { type: 'object', required: ['uid', 'title'], properties: { uid: { type: 'string' }, title: { type: 'string' } } },
        compliance: {
          type: 'object', required: ['standards', 'control', 'status_id'],
          properties: { standards: { type: 'array', items: { type: 'string' }, minItems: 1 }, control: { type: 'string' }, status_id: { enum: [0, 1, 2, 3, 99] } },
        },
        resources: { type: 'array', items: { type: 'object', required: ['uid'] } },
      },
    };
    const validate = new Ajv2020.default({ strict: false }).compile(complianceFinding);
    for (const finding of findings) expect(validate(finding) ? [] : validate.errors, finding.finding_info?.uid).toEqual([]);
    const byCheck = Object.fromEntries(findings.map((f) => [f.finding_info.uid, f]));
    for (const check of all) {
      expect(byCheck[check.id].compliance.status_id).toBe({ pass: 1, fail: 3, stale: 2, error: 99, info: 99 }[check.status]);
      expect(byCheck[check.id].compliance.control).toBe(check.control_ref);
      expect(byCheck[check.id].compliance.standards).toEqual(expect.arrayContaining(['soc2']));
    }

    const csv = await t.call('GET', '/api/v1/checks/export?format=csv');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = csv.text.trimEnd().split('\r\n');
    expect(rows[0]).toBe('check_id,status,result,control_ref,question_match,title,job_id,rule_id,connection_id,failing_count,last_result_at,fresh_until,changed_at,evidence_id,references');
    expect(rows).toHaveLength(all.length + 1);
    expect(rows.slice(1).map((row) => row.split(',')[0]).sort()).toEqual(all.map((c) => c.id).sort());
    expect((await t.call('GET', '/api/v1/checks/export?format=xml')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/checks/export')).status).toBe(400);
  });

  it('framework coverage: ISO 27001 lists the covered requirements with the checks behind them, and the rest as missing', async () => {
    const list = await t.call('GET', '/api/v1/frameworks');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((f: { id: string }) => f.id)).toEqual(['soc2', 'iso27001', 'nist_800_53', 'cis_aws']);
    const iso = await t.call('GET', '/api/v1/frameworks/iso27001');
    expect(iso.status, iso.text).toBe(200);
    expect(iso.body).toMatchObject({ id: 'iso27001', requirements: 93 });
    const byId = Object.fromEntries(iso.body.requirement_coverage.map((r: { id: string }) => [r.id, r]));
    // The Okta pack cites 8.5 (secure authentication) on its MFA and lockout rules: the admin MFA check passes since the admin enrolled.
    expect(byId['8.5'].checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([`${jobId}.okta-admin-mfa`, `${jobId}.okta-password-lockout`]));
    expect(byId['8.5'].title).toBe('Secure authentication');
    expect(byId['5.18'].checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([`${jobId}.okta-inactive-users`]));
    expect(byId['7.1']).toMatchObject({ status: 'missing', checks: [] });
    const covered = iso.body.requirement_coverage.filter((r: { checks: unknown[] }) => r.checks.length > 0);
    expect(iso.body.covered).toBe(covered.length);
    expect(list.body.data.find((f: { id: string }) => f.id === 'iso27001').covered).toBe(covered.length);
    const onlyCovered = await t.call('GET', '/api/v1/frameworks/iso27001?covered=true');
    expect(onlyCovered.body.requirement_coverage.map((r: { id: string }) => r.id)).toEqual(covered.map((r: { id: string }) => r.id));
    expect(Object.values(iso.body.by_status as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(93);
    expect((await t.call('GET', '/api/v1/frameworks/pci')).status).toBe(404);
    expect((await t.call('GET', '/api/v1/checks?framework=nist_800_53&limit=100')).body.data.length).toBeGreaterThan(0);
  });

  it('a rule’s own fresh_for sets its check’s freshness window, over the job’s', async () => {
    const mapping = await t.call('POST', '/api/v1/mappings', {
      json: { name: 'fresh rules', rules: [{ id: 'users-three-days', dataset: 'okta.users', control_ref: 'Access Control', question_match: 'account lockout', title: 'Users: {{count}}', mode: 'info', when_empty: 'info', fresh_for: '3d' }] },
    });
    expect(mapping.status, mapping.text).toBe(201);
    expect((await t.call('POST', '/api/v1/mappings', { json: { name: 'bad', rules: [{ id: 'x', dataset: 'okta.users', control_ref: 'C', question_match: 'q', title: 't', mode: 'info', fresh_for: 'soon' }] } })).body.errors[0].pointer).toBe('/rules/0/fresh_for');
    const base = (await t.call('GET', `/api/v1/jobs/${jobId}`)).body;
    const job = await t.call('POST', '/api/v1/jobs', { json: { name: 'fresh', connection_id: base.connection_id, datasets: ['okta.users'], mapping_id: mapping.body.id, destination_id: base.destination_id, target: base.target, fresh_for: '1d' } });
    await runToEnd(t.call, job.body.id);
    const [check] = (await t.call('GET', `/api/v1/checks?job_id=${job.body.id}`)).body.data;
    expect(Date.parse(check.fresh_until) - Date.parse(check.last_result_at)).toBe(3 * 86_400_000);
  });
});
