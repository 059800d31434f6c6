import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- tool results are arbitrary JSON */
type Json = any;

const Ajv2020 = Ajv2020Module as unknown as typeof Ajv2020Module.default;
const addFormats = addFormatsModule as unknown as (ajv: InstanceType<typeof Ajv2020>) => void;
const root = path.resolve(import.meta.dirname, '../..');

const TOOL_NAMES = [
  'list_checks', 'get_check', 'list_frameworks', 'get_framework_coverage', 'list_connections', 'list_jobs', 'list_runs', 'get_run',
  'trigger_run', 'search_evidence', 'get_evidence', 'preview_mapping', 'verify_audit_log',
];

async function httpClient(url: string, key: string, name = 'test assistant'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const rawPost = (url: string, headers: Record<string, string>, body: unknown = initialize) =>
  fetch(new URL('/mcp', url), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

describe('the MCP server, with the SDK’s own clients, against a running hub with data from the simulators', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let client: Client;
  let assistantKey: string;
  let jobId: string;
  let runId: string;
  const outputSchemas = new Map<string, Json>();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validated = new Set<string>();

  /** The one active administrator the simulator seeded without MFA. */
  function adminWithoutMfa(): { id: string; login: string } {
    const [id] = okta.truth().admins.idsWithoutMfa;
    const user = [...okta.state.directory.users()].find((u) => u.id === id);
    expect(user).toBeDefined();
    return user!;
  }

  /** Calls a tool and checks its structuredContent against the outputSchema the tool declared. */
  async function call(name: string, args: Record<string, unknown> = {}, via: Client = client): Promise<Json> {
    const result = await via.callTool({ name, arguments: args }) as Json;
    expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
    const validate = ajv.compile(outputSchemas.get(name));
    expect(validate(result.structuredContent), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(result.content[0].type).toBe('text');
    expect(result.content[0].text.length).toBeGreaterThan(0);
    validated.add(name);
    return result;
  }

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000', HUB_MCP_ALLOWED_ORIGINS: 'https://assistant.example.com' } });
    okta = await startOktaSimulator({ population: { total: 40, admins: 3, adminsWithoutMfa: 1, withoutMfa: 4, deprovisioned: 2 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const connection = await createConnection(t.call, { name: 'Okta production', type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'Nightly Okta', connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
    // What an assistant that may also start runs needs, and nothing more.
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'assistant', scopes: ['evidence:read', 'config:read', 'runs:read', 'runs:write', 'audit:read'] } });
    assistantKey = key.body.key;
    client = await httpClient(t.url, assistantKey);
    const { tools } = await client.listTools();
    for (const tool of tools) outputSchemas.set(tool.name, tool.outputSchema);
  }, 180_000);
  afterAll(async () => {
    await client?.close();
    await okta?.close();
    await audigyd?.close();
    await t?.stop();
  });

  it('lists every tool, each with an input and output schema and a description naming its scope', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
      expect(tool.description).toMatch(/Needs the API key scopes? [a-z:]+/);
    }
    expect(tools.find((tool) => tool.name === 'trigger_run')!.description).toContain('runs:write');
    expect(tools.find((tool) => tool.name === 'preview_mapping')!.description).toContain('config:read and runs:read');
    expect(tools.find((tool) => tool.name === 'trigger_run')!.annotations?.readOnlyHint).toBe(false);
  });

  it('starts a run with trigger_run and follows it with get_run until it has succeeded; the change is audited under the assistant’s key', async () => {
    const triggered = await call('trigger_run', { job_id: jobId, idempotency_key: 'assistant-1' });
    runId = triggered.structuredContent.run_id;
    expect(triggered.structuredContent.status_url).toBe(`${t.url}/api/v1/runs/${runId}/status`);
    expect(triggered.structuredContent.status_url).not.toContain('token=');
    const again = await call('trigger_run', { job_id: jobId, idempotency_key: 'assistant-1' });
    expect(again.structuredContent.run_id).toBe(runId);

    let run: Json;
    for (let polls = 0; ; polls++) {
      run = await call('get_run', { run_id: runId });
      if (run.structuredContent.ended) break;
      expect(polls).toBeLessThan(300);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(run.structuredContent.run.status).toBe('succeeded');
    expect(run.structuredContent.items.length).toBe(run.structuredContent.items_total);
    expect(run.structuredContent.steps.map((s: Json) => s.name)).toEqual(expect.arrayContaining([expect.stringContaining('okta.users')]));

    const audit = await t.call('GET', '/api/v1/audit-log?limit=100');
    const keyId = (await t.call('GET', '/api/v1/me', { key: assistantKey })).body.key_id;
    const started = audit.body.data.filter((e: Json) => e.resource_id === runId);
    expect(started.length).toBe(1);
    expect(started[0].actor).toMatchObject({ type: 'api_key', id: keyId });
  }, 120_000);

  it('finds the failing Okta admin-MFA check with list_checks, the admin without MFA named by label in its records', async () => {
    const failing = await call('list_checks', { status: 'fail' });
    const adminMfa = failing.structuredContent.checks.find((c: Json) => c.rule_id === 'okta-admin-mfa');
    expect(adminMfa).toMatchObject({ status: 'fail', job_id: jobId });
    const admin = adminWithoutMfa();
    expect(adminMfa.failing_sample.map((r: Json) => r.label)).toContain(admin.login);
    expect(failing.content[0].text).toContain(admin.login);

    const detail = await call('get_check', { check_id: adminMfa.id });
    expect(detail.structuredContent.failing_records.items.map((r: Json) => r.label)).toContain(admin.login);
    expect(detail.structuredContent.failing_records.total).toBe(1);
    expect(detail.structuredContent.latest.not_met.length).toBeGreaterThan(0);
    expect(detail.structuredContent.history[0].evidence_id).toBe(adminMfa.evidence_id);

    const evidence = await call('get_evidence', { evidence_id: adminMfa.evidence_id });
    expect(evidence.structuredContent.evidence).toMatchObject({ id: adminMfa.evidence_id, result: 'fail', run_id: runId });
    const found = await call('search_evidence', { control_ref: adminMfa.control_ref, result: 'fail', collected_from: '2000-01-01T00:00:00Z' });
    expect(found.structuredContent.evidence.map((e: Json) => e.id)).toContain(adminMfa.evidence_id);
    const none = await call('search_evidence', { control_ref: adminMfa.control_ref, collected_to: '2000-01-01T00:00:00Z' });
    expect(none.structuredContent.evidence).toEqual([]);
  });

  it('previews a changed threshold on the latest snapshot: the result differs from the published rules', async () => {
    const pack = JSON.parse(((await client.readResource({ uri: 'evidence-hub://packs/okta' })).contents[0] as Json).text);
    const published = await call('preview_mapping', { job_id: jobId });
    const before = published.structuredContent.results.find((r: Json) => r.rule_id === 'okta-password-min-length').result;
    expect(['pass', 'fail']).toContain(before);
    const rules = pack.rules.map((rule: Json) => (rule.id === 'okta-password-min-length' ? { ...rule, params: { min_length: before === 'pass' ? 1000 : 1 } } : rule));
    const changed = await call('preview_mapping', { job_id: jobId, rules });
    const after = changed.structuredContent.results.find((r: Json) => r.rule_id === 'okta-password-min-length').result;
    expect(after).not.toBe(before);
    const comparison = changed.structuredContent.comparison.find((c: Json) => c.rule_id === 'okta-password-min-length');
    expect(comparison).toMatchObject({ before, after, changed: true });
    expect(changed.structuredContent.comparison.filter((c: Json) => c.changed)).toHaveLength(1);

    const broken = await client.callTool({ name: 'preview_mapping', arguments: { job_id: jobId, rules: [{ id: 'x' }] } }) as Json;
    expect(broken.isError).toBe(true);
    expect(broken.content[0].text).toMatch(/rules/);
  });

  it('answers every other tool within its declared output schema, and reads the resources and the prompt', async () => {
    await call('list_frameworks');
    const coverage = await call('get_framework_coverage', { framework_id: 'soc2', status: 'fail', limit: 5 });
    expect(coverage.structuredContent.requirements.every((r: Json) => r.status === 'fail')).toBe(true);
    const connections = await call('list_connections');
    expect(connections.structuredContent.connections[0]).toMatchObject({ name: 'Okta production', type: 'okta', config: { base_url: new URL(okta.url).origin } });
    expect(JSON.stringify(connections.structuredContent)).not.toContain(okta.apiToken);
    expect((await call('list_jobs')).structuredContent.jobs.map((j: Json) => j.id)).toEqual([jobId]);
    expect((await call('list_runs', { job_id: jobId })).structuredContent.runs.map((r: Json) => r.id)).toEqual([runId]);
    const verified = await call('verify_audit_log');
    expect(verified.structuredContent).toMatchObject({ verified: true, chain_valid: true });
    expect(new Set(TOOL_NAMES)).toEqual(validated);

    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['evidence-hub://schemas/mapping-rules', 'evidence-hub://packs/okta', 'evidence-hub://packs/aws']));
    const schema = JSON.parse(((await client.readResource({ uri: 'evidence-hub://schemas/mapping-rules' })).contents[0] as Json).text);
    expect(schema.$defs.Rule).toBeDefined();

    const prompt = await client.getPrompt({ name: 'explain_failing_checks', arguments: { job_id: jobId } });
    const text = (prompt.messages[0]!.content as Json).text as string;
    const admin = adminWithoutMfa();
    expect(text).toContain('Okta: MFA for administrators');
    expect(text).toContain(admin.login);
  });

  it('bounds what a tool answers: at most 50 items per page, and arguments outside the schema are a tool error', async () => {
    const tooMany = await client.callTool({ name: 'list_checks', arguments: { limit: 500 } }) as Json;
    expect(tooMany.isError).toBe(true);
    expect(tooMany.content[0].text).toContain('/limit');
    const checks = await call('list_checks', { limit: 2 });
    expect(checks.structuredContent.checks).toHaveLength(2);
    const next = await call('list_checks', { limit: 2, cursor: checks.structuredContent.next_cursor });
    expect(next.structuredContent.checks.map((c: Json) => c.id)).not.toContain(checks.structuredContent.checks[0].id);
    const otherWorkspaceRun = await client.callTool({ name: 'get_run', arguments: { run_id: 'run_from_elsewhere' } }) as Json;
    expect(otherWorkspaceRun.isError).toBe(true);
    expect(otherWorkspaceRun.content[0].text).toContain('No run with this id');
  });

  it('a key with only runs:read gets a tool error naming runs:write from trigger_run, and the run is not started', async () => {
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'read-only assistant', scopes: ['runs:read'] } });
    const readOnly = await httpClient(t.url, key.body.key);
    try {
      expect((await readOnly.listTools()).tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
      const runsBefore = (await t.call('GET', `/api/v1/runs?job_id=${jobId}`)).body.data.length;
      const refused = await readOnly.callTool({ name: 'trigger_run', arguments: { job_id: jobId } }) as Json;
      expect(refused.isError).toBe(true);
      expect(refused.content[0].text).toContain('runs:write');
      expect((await t.call('GET', `/api/v1/runs?job_id=${jobId}`)).body.data.length).toBe(runsBefore);
      const preview = await readOnly.callTool({ name: 'preview_mapping', arguments: { job_id: jobId } }) as Json;
      expect(preview.isError).toBe(true);
      expect(preview.content[0].text).toContain('config:read');
      // What it may do, it can.
      expect((await call('get_run', { run_id: runId }, readOnly)).structuredContent.run.id).toBe(runId);
    } finally {
      await readOnly.close();
    }
  });

  it('refuses a request without a key (401, WWW-Authenticate: Bearer, no OAuth metadata), a foreign Origin (403), an unknown protocol version, and GET', async () => {
    const anonymous = await rawPost(t.url, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(anonymous.headers.get('www-authenticate')).not.toContain('resource_metadata');
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const wrongKey = await rawPost(t.url, { authorization: 'Bearer ehk_not_a_key' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers.get('www-authenticate')).toContain('invalid_token');

    const foreign = await rawPost(t.url, { authorization: `Bearer ${assistantKey}`, origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as Json).detail).toContain('https://evil.example');
    expect((await rawPost(t.url, { authorization: `Bearer ${assistantKey}`, origin: 'https://assistant.example.com' })).status).toBe(200);
    expect((await rawPost(t.url, { authorization: `Bearer ${assistantKey}`, origin: new URL(t.url).origin })).status).toBe(200);

    const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };
    const badVersion = await rawPost(t.url, { authorization: `Bearer ${assistantKey}`, 'mcp-protocol-version': '1999-01-01' }, listTools);
    expect(badVersion.status).toBe(400);
    const get = await fetch(new URL('/mcp', t.url), { headers: { authorization: `Bearer ${assistantKey}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('keeps no session: a tool call with no initialize before it (as another API process would get it) is answered', async () => {
    const call = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'list_jobs', arguments: {} } };
    const answer = await rawPost(t.url, { authorization: `Bearer ${assistantKey}`, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION }, call);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mcp-session-id')).toBeNull();
    const body = (await answer.json()) as Json;
    expect(body.result.structuredContent.jobs.map((j: Json) => j.id)).toEqual([jobId]);
  });

  it('counts MCP requests against the key’s rate limit', async () => {
    const first = await rawPost(t.url, { authorization: `Bearer ${assistantKey}` });
    const second = await rawPost(t.url, { authorization: `Bearer ${assistantKey}` });
    expect(Number(second.headers.get('ratelimit-remaining'))).toBeLessThan(Number(first.headers.get('ratelimit-remaining')));
  });

  it('serves the same tools over stdio: `npx evidence-hub mcp --url` with EVIDENCE_HUB_API_KEY, calling the hub’s HTTP API', async () => {
    const transport = new StdioClientTransport({
      command: 'npx', args: ['evidence-hub', 'mcp', '--url', t.url], cwd: root, stderr: 'pipe',
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? root, EVIDENCE_HUB_API_KEY: assistantKey, EVIDENCE_HUB_FROM_SOURCE: '1' },
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const stdio = new Client({ name: 'desktop assistant', version: '1.0.0' });
    try {
      await stdio.connect(transport);
      expect((await stdio.listTools()).tools.map((tool) => tool.name)).toEqual(TOOL_NAMES);
      const failing = await call('list_checks', { status: 'fail', job_id: jobId }, stdio);
      expect(failing.structuredContent.checks.map((c: Json) => c.rule_id)).toContain('okta-admin-mfa');
      expect(stderr).toContain('as key "assistant"');
      expect(stderr).not.toContain(assistantKey);
    } finally {
      await stdio.close();
    }
  }, 60_000);
});
