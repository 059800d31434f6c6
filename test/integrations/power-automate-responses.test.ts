import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/index.js';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { createConnection } from '../helpers/collect.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the engine reads arbitrary JSON */
type Json = any;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A Swagger 2.0 schema back as JSON Schema for Ajv: x-nullable as a `null` type, extensions dropped. */
function jsonSchemaOf(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-') || key === 'example') continue;
    if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as object).map(([n, s]) => [n, jsonSchemaOf(s)]));
    else out[key] = typeof value === 'object' ? jsonSchemaOf(value) : value;
  }
  if (schema['x-nullable']) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

interface Answer { status: number; headers: Headers; body: Json }

/**
 * Plays the Power Automate engine: reads only the exported definition, finds an operation by
 * its operationId, builds the request from the declared parameters and the apiKey security,
 * and checks the answer against the response schema declared for its status.
 */
class Engine {
  private readonly ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  readonly called = new Set<string>();
  constructor(readonly doc: Json, private readonly connection: Record<string, string>) {}

  get baseUrl(): string {
    return `${this.doc.schemes[0]}://${this.doc.host}${this.doc.basePath === '/' ? '' : this.doc.basePath}`;
  }

  operation(operationId: string): { path: string; method: string; op: Json } {
    for (const [p, item] of Object.entries(this.doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) if (op.operationId === operationId) return { path: p, method, op };
    }
    throw new Error(`no operation ${operationId}`);
  }

  /** The declared schema of a response, as Ajv reads it. */
  schemaFor(operationId: string, status: number): Json {
    const response = this.operation(operationId).op.responses[String(status)];
    if (!response) throw new Error(`${operationId} does not declare ${status}`);
    return jsonSchemaOf(response.schema);
  }

  validate(operationId: string, status: number, body: unknown): void {
    const validate = this.ajv.compile(this.schemaFor(operationId, status));
    expect(validate(body), `${operationId} ${status}: ${JSON.stringify(validate.errors)}`).toBe(true);
  }

  async call(operationId: string, values: Record<string, unknown> = {}): Promise<Answer> {
    const { path: template, method, op } = this.operation(operationId);
    let urlPath = template;
    const query = new URLSearchParams();
    const headers: Record<string, string> = {};
    let body: string | undefined;
    for (const param of op.parameters as Json[]) {
      const value = values[param.name];
      if (value === undefined) {
        if (param.required) throw new Error(`${operationId}: required parameter ${param.name} missing`);
        continue;
      }
      if (param.in === 'path') urlPath = urlPath.replace(`{${param.name}}`, encodeURIComponent(String(value)));
      else if (param.in === 'query') query.set(param.name, String(value));
      else if (param.in === 'header') headers[param.name] = String(value);
      else if (param.in === 'body') {
        body = JSON.stringify(value);
        headers['content-type'] = 'application/json';
      }
    }
    for (const requirement of (op.security ?? this.doc.security) as Record<string, string[]>[]) {
      for (const name of Object.keys(requirement)) {
        const scheme = this.doc.securityDefinitions[name];
        if (scheme.type === 'apiKey' && scheme.in === 'header') headers[scheme.name] = this.connection[name]!;
      }
    }
    const url = `${this.baseUrl}${urlPath}${query.size ? `?${query}` : ''}`;
    const response = await fetch(url, { method: method.toUpperCase(), headers, body, redirect: 'manual' });
    const text = await response.text();
    const answer = { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    this.called.add(operationId);
    if (answer.status >= 200 && answer.status < 300) this.validate(operationId, answer.status, answer.body);
    return answer;
  }

  /** A picker's choices, through its x-ms-dynamic-values operation. */
  async pick(dynamicValues: Json): Promise<{ value: string; title: string }[]> {
    const answer = await this.call(dynamicValues.operationId, dynamicValues.parameters ?? {});
    expect(answer.status).toBe(200);
    return (answer.body[dynamicValues['value-collection']] as Json[]).map((item) => ({ value: item[dynamicValues['value-path']], title: item[dynamicValues['value-title']] }));
  }

  /**
   * The asynchronous pattern as the engine runs it: after a 202 it waits Retry-After, GETs
   * Location without the connection's key (the status URL carries its own valet key), and
   * stops at the first answer that is not a 202.
   */
  async poll(first: Answer, operationId: string): Promise<{ final: Answer; polls: number }> {
    let current = first;
    for (let polls = 1; polls <= 30; polls++) {
      const location = current.headers.get('location');
      const retryAfter = Number(current.headers.get('retry-after'));
      expect(location).toMatch(/^https?:\/\//);
      expect(Number.isInteger(retryAfter) && retryAfter >= 0).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      const response = await fetch(location!, { redirect: 'manual' });
      current = { status: response.status, headers: response.headers, body: await response.json() };
      if (current.status !== 202) return { final: current, polls };
      // Every answer on the way is a run the declared 202 schema describes.
      this.validate(operationId, 202, current.body);
    }
    throw new Error('the run did not end within 30 polls');
  }
}

/** A flow's callback: a local HTTP server that records what the hub POSTs and answers `status`. */
interface Callback { url: string; received: Json[]; status: number; close(): Promise<void> }
async function startCallback(status = 200): Promise<Callback> {
  const received: Json[] = [];
  const callback: Callback = { url: '', received, status, close: () => new Promise((resolve) => server.close(() => resolve())) };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(callback.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // As Power Automate's: the signature that lets anyone start the flow is in the query string.
  callback.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/workflows/3f2a/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sig=FlowSignature${status}Secret`;
  return callback;
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the exported connector against a running hub: every operation answers what it declares', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let engine: Engine;
  let dir: string;
  let jobId: string;
  let flowKey: string;
  const callbacks: Callback[] = [];

  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000' } });
    okta = await startOktaSimulator({ population: { total: 60, admins: 3, adminsWithoutMfa: 1, withoutMfa: 5, deprovisioned: 2 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    const connection = await createConnection(t.call, { type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } } });
    expect(destination.status, destination.text).toBe(201);
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    for (const name of ['Weekly Jamf placeholder', 'Nightly Okta']) {
      const job = await t.call('POST', '/api/v1/jobs', {
        json: { name, connection_id: connection, datasets: ['okta.users', 'okta.password_policies'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'asm_okta' } },
      });
      expect(job.status, job.text).toBe(201);
    }

    // The engine knows only the exported files and the key a maker pasted into the connection:
    // the narrowest scopes for a flow that reads pickers, runs jobs, reads runs and checks, and pushes evidence.
    dir = await mkdtemp(path.join(os.tmpdir(), 'pa-engine-'));
    expect(await main(['power-automate', 'export', '--out', dir, '--public-url', t.url], { out: () => {}, err: (l) => { throw new Error(l); } }, {})).toBe(0);
    const doc = JSON.parse(await readFile(path.join(dir, 'apiDefinition.swagger.json'), 'utf8'));
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'power automate flow', scopes: ['config:read', 'runs:write', 'runs:read', 'evidence:read', 'evidence:write', 'events:subscribe'] } });
    expect(key.status).toBe(201);
    flowKey = key.body.key;
    engine = new Engine(doc, { api_key: key.body.key });
  }, 180_000);
  afterAll(async () => {
    await Promise.all(callbacks.map((c) => c.close()));
    await okta?.close();
    await audigyd?.close();
    await t?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('tests the connection with the x-ms-capabilities operation', async () => {
    const test = await engine.call(engine.doc['x-ms-capabilities'].testConnection.operationId);
    expect(test.status).toBe(200);
    expect(test.body.scopes).toContain('runs:write');
  });

  it('fills the job picker, runs the job as the engine does, and reads the run, its evidence, checks and posture', async () => {
    const runJob = engine.operation('RunJob').op;
    const jobParameter = (runJob.parameters as Json[]).find((p) => p.name === 'id');
    const choices = await engine.pick(jobParameter['x-ms-dynamic-values']);
    expect(choices.map((c) => c.title)).toEqual(expect.arrayContaining(['Nightly Okta', 'Weekly Jamf placeholder']));
    jobId = choices.find((c) => c.title === 'Nightly Okta')!.value;

    expect((await engine.call('ListJobs')).body.data).toHaveLength(2);
    expect((await engine.call('GetJob', { id: jobId })).body.name).toBe('Nightly Okta');

    const trigger = await engine.call('RunJob', { id: jobId, 'Idempotency-Key': 'flow-monday-1' });
    expect(trigger.status).toBe(202);
    expect(trigger.headers.get('location')).toBeTruthy();
    expect(Number(trigger.headers.get('retry-after'))).toBeGreaterThan(0);
    const { final } = await engine.poll(trigger, 'RunJob');
    expect(final.status).toBe(200);
    // What the engine ends with is the run the definition declares for Run a job.
    engine.validate('RunJob', 200, final.body);
    expect(final.body).toMatchObject({ id: trigger.body.id, status: 'succeeded' });

    const run = await engine.call('GetRun', { id: final.body.id });
    expect(run.body.counts.evidence).toBeGreaterThan(0);
    const evidence = await engine.call('ListRunEvidence', { run_id: final.body.id, limit: 500 });
    expect(evidence.body.data).toHaveLength(run.body.counts.evidence);
    const failing = await engine.call('ListChecks', { status: 'fail', job_id: jobId });
    expect(failing.body.data.length).toBeGreaterThan(0);
    expect(failing.body.data.every((c: Json) => c.status === 'fail')).toBe(true);
    const posture = await engine.call('GetPosture');
    expect(posture.body.checks.fail).toBe(failing.body.data.length);
  }, 180_000);

  it('pushes an evidence item to a destination picked from its list, and fills the connection picker', async () => {
    const push = engine.operation('PushEvidence').op;
    const body = (push.parameters as Json[]).find((p) => p.in === 'body');
    const destinations = await engine.pick(body.schema.properties.destination_id['x-ms-dynamic-values']);
    expect(destinations.map((d) => d.title)).toEqual(['AUDIGYD']);
    const pushed = await engine.call('PushEvidence', {
      'Idempotency-Key': 'flow-push-1',
      body: {
        destination_id: destinations[0]!.value, target: { assessment_id: 'asm_okta' }, control_ref: 'Access Control', question_match: 'account lockout',
        title: 'Lockout reviewed in the flow', source: 'power-automate', result: 'pass', payload: { reviewed_by: 'flow' }, collected_at: '2025-01-06T08:00:00Z',
      },
    });
    expect(pushed.status).toBe(202);

    const listChecks = engine.operation('ListChecks').op;
    const connectionParameter = (listChecks.parameters as Json[]).find((p) => p.name === 'connection_id');
    const connections = await engine.pick(connectionParameter['x-ms-dynamic-values']);
    expect(connections).toHaveLength(1);
  });

  /** The trigger as the engine finds it: the operation marked x-ms-trigger, its callback field, its notification schema. */
  function trigger(): { operationId: string; urlField: string; body: Json; notification: Json } {
    for (const item of Object.values(engine.doc.paths as Record<string, Json>)) {
      const post = item.post;
      if (post?.['x-ms-trigger'] !== 'single') continue;
      const body = (post.parameters as Json[]).find((p) => p.in === 'body');
      const urlField = Object.entries(body.schema.properties as Record<string, Json>).find(([, s]) => s['x-ms-notification-url'] === true)![0];
      return { operationId: post.operationId, urlField, body: body.schema, notification: item['x-ms-notification-content'].schema };
    }
    throw new Error('no trigger in the definition');
  }

  /** Runs the job as a flow would, to its end. */
  async function runJob(idempotencyKey: string): Promise<Json> {
    const started = await engine.call('RunJob', { id: jobId, 'Idempotency-Key': idempotencyKey });
    expect(started.status).toBe(202);
    const { final } = await engine.poll(started, 'RunJob');
    expect(final.status).toBe(200);
    return final.body;
  }

  async function subscribe(callback: Callback): Promise<{ location: string; body: Json }> {
    const { operationId, urlField, body } = trigger();
    expect(body.required).toEqual(expect.arrayContaining([urlField]));
    expect(body.properties[urlField]['x-ms-visibility']).toBe('internal');
    const types = await engine.pick(body.properties.event_type['x-ms-dynamic-values']);
    expect(types.map((t) => t.value)).toContain('run.completed');
    const created = await engine.call(operationId, { body: { [urlField]: callback.url, event_type: 'run.completed' } });
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^https?:\/\//);
    return { location, body: created.body };
  }

  it('subscribes the trigger, delivers run.completed as x-ms-notification-content declares, and nothing after DELETE of the Location', async () => {
    const callback = await startCallback(200);
    callbacks.push(callback);
    const { location, body: created } = await subscribe(callback);
    const secretPart = new URL(callback.url).search;
    expect(JSON.stringify(created)).not.toContain('FlowSignature');
    expect(created.callback).toEqual({ origin: new URL(callback.url).origin, path_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const run = await runJob('flow-trigger-1');
    const notification = await until('run.completed at the callback', () => callback.received.find((b) => b.type === 'run.completed' && b.data.run_id === run.id));
    const validate = addFormats(new Ajv({ strict: false, allErrors: true })).compile(jsonSchemaOf(trigger().notification));
    expect(validate(notification), JSON.stringify(validate.errors)).toBe(true);
    expect(notification.data).toMatchObject({ run_id: run.id, job_id: jobId, status: 'succeeded' });
    // The check has teeth: an envelope without its data does not validate.
    expect(validate({ id: notification.id, type: 'run.completed', timestamp: notification.timestamp })).toBe(false);

    // Nothing shows the callback URL, whatever the key: the flow's own, an admin's, the webhook list, the audit log.
    const id = created.id as string;
    for (const [method, p, key] of [
      ['GET', '/api/v1/integrations/power-automate/subscriptions', flowKey], ['GET', `/api/v1/integrations/power-automate/subscriptions/${id}`, flowKey],
      ['GET', '/api/v1/integrations/power-automate/subscriptions', t.adminKey], ['GET', `/api/v1/integrations/power-automate/subscriptions/${id}`, t.adminKey],
      ['GET', '/api/v1/webhooks', t.adminKey], ['GET', `/api/v1/webhooks/${id}`, t.adminKey], ['GET', `/api/v1/audit-log?resource_id=${id}`, t.adminKey],
    ] as const) {
      const response = await fetch(`${t.url}${p}`, { method, headers: { 'x-api-key': key } });
      const text = await response.text();
      expect(response.status, `${p}: ${text}`).toBe(200);
      expect(text, p).not.toContain('FlowSignature');
      expect(text, p).not.toContain(secretPart);
      expect(text, p).not.toContain('/workflows/3f2a');
    }
    const listed = await fetch(`${t.url}/api/v1/integrations/power-automate/subscriptions`, { headers: { 'x-api-key': flowKey } }).then((r) => r.json() as Promise<Json>);
    expect(listed.data.map((s: Json) => s.id)).toContain(id);

    // Power Automate removes the trigger: DELETE to the Location, with the connection's key, as the definition declares it.
    const del = engine.operation('DeleteHubEventSubscription');
    expect(new URL(location).pathname).toBe(del.path.replace('{id}', id));
    const deleted = await fetch(location, { method: 'DELETE', headers: { [engine.doc.securityDefinitions.api_key.name]: flowKey } });
    expect(deleted.status).toBe(200);
    engine.validate('DeleteHubEventSubscription', 200, await deleted.json());
    engine.called.add('DeleteHubEventSubscription');
    expect((await fetch(location, { headers: { 'x-api-key': flowKey } })).status).toBe(404);

    // Another flow subscribed to the same event proves the second run's event went out.
    const witness = await startCallback(200);
    callbacks.push(witness);
    const { location: witnessLocation } = await subscribe(witness);
    const before = callback.received.length;
    const again = await runJob('flow-trigger-2');
    await until('run.completed at the other flow', () => witness.received.find((b) => b.type === 'run.completed' && b.data.run_id === again.id));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(callback.received.length).toBe(before);
    expect((await fetch(witnessLocation, { method: 'DELETE', headers: { 'x-api-key': flowKey } })).status).toBe(200);
  }, 180_000);

  it('removes a subscription whose callback answers 410 (a flow deleted without its DELETE), and says why in the audit log', async () => {
    const callback = await startCallback(410);
    callbacks.push(callback);
    const { location, body: created } = await subscribe(callback);
    await runJob('flow-trigger-gone');
    await until('the 410 at the callback', () => (callback.received.length ? true : undefined));
    const entry = await until('the removal in the audit log', async () => {
      const log = await t.call('GET', `/api/v1/audit-log?action=power_automate.subscription_removed&resource_id=${created.id}`);
      return log.body.data?.[0] as Json | undefined;
    });
    expect(entry).toMatchObject({ action: 'power_automate.subscription_removed', actor: { type: 'system' }, resource_type: 'webhook', resource_id: created.id, changes: { status_code: 410 } });
    expect(entry.changes.reason).toMatch(/410/);
    expect(entry.changes.callback).toEqual(created.callback);
    expect(JSON.stringify(entry)).not.toContain('FlowSignature');
    expect((await fetch(location, { headers: { 'x-api-key': flowKey } })).status).toBe(404);
    const listed = await fetch(`${t.url}/api/v1/integrations/power-automate/subscriptions`, { headers: { 'x-api-key': flowKey } }).then((r) => r.json() as Promise<Json>);
    expect(listed.data.map((s: Json) => s.id)).not.toContain(created.id);
  }, 180_000);

  it('refuses the trigger to a key without events:subscribe, naming the scope', async () => {
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'flow without trigger', scopes: ['config:read', 'runs:write', 'runs:read'] } });
    const { urlField } = trigger();
    const response = await fetch(`${engine.baseUrl}${engine.operation(trigger().operationId).path}`, {
      method: 'POST', headers: { 'x-api-key': key.body.key, 'content-type': 'application/json' },
      body: JSON.stringify({ [urlField]: 'https://prod-01.westeurope.logic.azure.com/workflows/x?sig=abc', event_type: 'run.completed' }),
    });
    const problem: Json = await response.json();
    expect(response.status).toBe(403);
    expect(problem.detail).toContain('events:subscribe');
    expect(problem.missing_scopes ?? problem.fields?.missing_scopes).toEqual(['events:subscribe']);
  });

  it('has called every operation of the definition, each answer matching its declared schema', () => {
    const all = Object.values(engine.doc.paths as Record<string, Json>).flatMap((item) => Object.entries(item as Record<string, Json>)
      .filter(([key]) => !key.startsWith('x-')).map(([, op]) => op.operationId as string));
    expect([...engine.called].sort()).toEqual(all.sort());
    // The check has teeth: a body the schema does not describe fails it.
    expect(() => engine.validate('GetRun', 200, { id: 'run_x', status: 'unheard-of' })).toThrow();
  });
});
