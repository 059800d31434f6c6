import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAudigydSimulator, startGraphSimulator, type AudigydSimulator, type GraphSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection, runToEnd } from '../helpers/collect.js';
import { GRAPH_ASSESSMENT } from '../helpers/graph-fixtures.js';


describe('jobs end to end: Graph simulator → entra / intune packs → AUDIGYD simulator', () => {
  let t: TestHub;
  let graph: GraphSimulator;
  let audigyd: AudigydSimulator;
  let destination: string;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000' } });
    graph = await startGraphSimulator({
      users: { total: 300, disabled: 5, guests: 4, staleGuests: 1, staleSignIns: 3, neverSignedIn: 2, withoutMfa: 7, admins: 4, adminsWithoutMfa: 1 },
      devices: { total: 120, noncompliant: 0, unencrypted: 0, staleSync: 0, outdatedOs: 2 },
    });
    audigyd = await startAudigydSimulator({ assessments: [GRAPH_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const created = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    expect(created.status, created.text).toBe(201);
    destination = created.body.id;
  });
  afterAll(async () => { await graph?.close(); await audigyd?.close(); await t?.stop(); });

  async function job(type: 'entra' | 'intune', datasets: string[]): Promise<string> {
    const connection = await createConnection(t.call, {
      type, config: { tenant_id: graph.tenantId, client_id: graph.clientId, authority_url: graph.url, graph_url: graph.url, page_size: 100 }, secrets: { client_secret: graph.clientSecret },
    });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: type, pack: type } });
    expect(mapping.status, mapping.text).toBe(201);
    const created = await t.call('POST', '/api/v1/jobs', { json: { name: `${type} nightly`, connection_id: connection, datasets, mapping_id: mapping.body.id, destination_id: destination, target: { assessment_id: 'asm_graph' } } });
    expect(created.status, created.text).toBe(201);
    return created.body.id;
  }

  const delivered = (questionId: string) => audigyd.state.evidence.find((e) => e.questionId === questionId)!;

  it('entra: every rule’s evidence reaches its question, with results and payloads that match the tenant', async () => {
    const run = await runToEnd(t.call, await job('entra', ['entra.users', 'entra.mfa_registration', 'entra.directory_roles', 'entra.security_defaults']));
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ evidence: 5, delivered: 5, ambiguous: 0, rejected: 0, failed: 0 });
    const truth = graph.truth();
    expect(delivered('q_ms_mfa_members').body).toMatchObject({ control_ref: 'Access Control', question_match: 'MFA registered members', result: 'fail' });
    const members = delivered('q_ms_mfa_members').body.payload as { members_without_mfa: { items: { id: string }[] } };
    expect(members.members_without_mfa.items.map((m) => m.id).sort()).toEqual([...truth.enabledMembers.idsWithoutMfa].sort());
    const privileged = delivered('q_ms_mfa_privileged').body.payload as { privileged_assignments: { items: { principal_id: string; mfa_registered: boolean }[] } };
    expect(privileged.privileged_assignments.items.filter((a) => !a.mfa_registered).map((a) => a.principal_id)).toEqual(truth.privilegedUsers.idsWithoutMfa);
    expect(delivered('q_ms_mfa_privileged').body.result).toBe('fail');
    expect(delivered('q_ms_mfa_enforced').body.result).toBe(truth.mfaEnforcedForAllUsers ? 'pass' : 'fail');
    expect(delivered('q_ms_inactive').body.result).toBe(truth.inactiveEnabled.total > 0 ? 'fail' : 'pass');
    expect(delivered('q_ms_guests').body).toMatchObject({ result: 'fail', payload: { enabled_guests: truth.enabledGuests.total } });
  });

  it('intune: compliant, encrypted and synced devices pass; two below the minimum OS fail that rule only', async () => {
    const run = await runToEnd(t.call, await job('intune', ['intune.managed_devices', 'intune.compliance_policies']));
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.counts).toMatchObject({ evidence: 4, delivered: 4, ambiguous: 0, rejected: 0, failed: 0 });
    expect(run.counts.collected).toBe(120 + graph.truth().compliancePolicies);
    expect(Object.fromEntries(['q_ms_compliance', 'q_ms_encryption', 'q_ms_os', 'q_ms_sync'].map((q) => [q, delivered(q).body.result]))).toEqual({ q_ms_compliance: 'pass', q_ms_encryption: 'pass', q_ms_os: 'fail', q_ms_sync: 'pass' });
    const os = delivered('q_ms_os').body.payload as { _evaluation: { assertions: { passed: boolean; failing?: { items?: { id: string }[] } }[] } };
    const failing = os._evaluation.assertions.find((a) => !a.passed);
    expect(JSON.stringify(failing)).toContain(graph.truth().devices.ids.outdatedOs[0]);
  });

  it('a dataset the tenant’s licence does not cover: its rules report error naming the licence, the others are still delivered, the run is partial', async () => {
    graph.setLicence('entraPremium', false);
    try {
      const jobId = await job('entra', ['entra.mfa_registration', 'entra.security_defaults']);
      const run = await runToEnd(t.call, jobId);
      expect(run.status).toBe('partial');
      expect(run.error).toMatch(/entra\.mfa_registration could not be collected: .*P1 or P2/);
      const items = (await t.call('GET', `/api/v1/evidence?run_id=${run.id}`)).body.data as { rule_id: string; result: string; status: string; error: string | null }[];
      const byRule = Object.fromEntries(items.map((i) => [i.rule_id, i]));
      // Only the rules of the collected dataset are answers; the one on the uncollected dataset is an error, never a pass.
      expect(byRule['entra-mfa-registered']).toMatchObject({ result: 'error', status: 'failed' });
      expect(byRule['entra-mfa-registered']!.error).toMatch(/could not be collected: .*P1 or P2/);
      expect(byRule['entra-mfa-enforced']).toMatchObject({ status: 'delivered' });
      const checks = (await t.call('GET', `/api/v1/checks?job_id=${jobId}`)).body.data as { rule_id: string; status: string }[];
      expect(checks.find((c) => c.rule_id === 'entra-mfa-registered')?.status).toBe('error');
    } finally {
      graph.setLicence('entraPremium', true);
    }
  });
});

