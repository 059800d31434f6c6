/**
 * Runs schemathesis (the property-based API tester, PyPI `schemathesis`) against a hub: the
 * fixtures it needs (ids a schema cannot invent), its TOML config, and the child process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiCaller } from './hub.js';

export const SCHEMATHESIS_VERSION = '4.32.5';

/** The schemathesis executable, or null when it is not installed (.ci/run installs it). */
export function schemathesisCommand(): string | null {
  const found = spawnSync('schemathesis', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'schemathesis' : null;
}

/**
 * A local system for the fixtures to talk to: `GET /items` answers records (an `http`
 * connection collects them), anything else 200 `{}` (webhook deliveries land here). No
 * fixture ever calls out of the machine.
 */
export async function startLocalSystem(): Promise<{ url: string; requests: () => number; stop(): Promise<void> }> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(req.url?.startsWith('/items') ? JSON.stringify({ data: [{ id: 'u1', active: true }, { id: 'u2', active: false }] }) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface Fixtures {
  pushConnection: string;
  httpConnection: string;
  destination: string;
  mapping: string;
  job: string;
  run: string;
  evidence: string;
  webhook: string;
  /** Changed by the run (PATCH, PUT) or deleted by it: never the ones other operations read. */
  spare: Record<'connection' | 'destination' | 'mapping' | 'job' | 'webhook', { changed: string; deleted: string }>;
  webhookDelivery: string;
  collection: string;
  snapshot: string;
  diagnostic: string;
  workspace: string;
  spareApiKey: string;
  auditEntry: string;
  evidencePackage: string;
  /** A check of the job (its run's result) and an exception to revoke. */
  check: string;
  spareException: string;
  /** Where webhooks and connections of the run point: the local system. */
  localUrl: string;
}

const PUSH_DATASET = 'push.users';
const TARGET = { assessment_id: 'assessment-1' };
const RECORDS = [{ id: 'u1', mfa: true }];

/** Creates, through the API, one of each resource the operations under test need, and returns their ids. */
export async function createFixtures(call: ApiCaller, localUrl: string): Promise<Fixtures> {
  const made = async (method: string, urlPath: string, json?: unknown, expected = [200, 201, 202]): Promise<{ id: string } & Record<string, unknown>> => {
    const res = await call(method, urlPath, json === undefined ? {} : { json });
    if (!expected.includes(res.status)) throw new Error(`fixture ${method} ${urlPath}: ${res.status} ${res.text}`);
    return res.body as { id: string };
  };
  const connection = (name: string, type: string, config: unknown, secrets?: unknown) => made('POST', '/api/v1/connections', { name, type, config, ...(secrets ? { secrets } : {}) });
  const pushConnection = await connection('push source', 'push', { datasets: [{ name: 'users' }] });
  const httpConnection = await connection('local http source', 'http', { base_url: localUrl, auth: { type: 'none' }, datasets: [{ name: 'items', path: '/items', records_path: '$.data' }] });
  const destination = (name: string) => made('POST', '/api/v1/destinations', { name, type: 'audigyd', config: { base_url: `${localUrl}/audigyd` }, secrets: { api_key: 'key-1' } });
  const dest = await destination('local audigyd');
  // No rules: runs of the fixture jobs end at once and deliver nothing.
  const emptyMapping = (name: string) => made('POST', '/api/v1/mappings', { name, rules: [] });
  const mapping = await emptyMapping('empty');
  const jobBody = (name: string) => ({ name, connection_id: pushConnection.id, datasets: [PUSH_DATASET], mapping_id: mapping.id, destination_id: dest.id, target: TARGET });
  const job = await made('POST', '/api/v1/jobs', jobBody('push job'));
  const webhookAt = (url: string) => made('POST', '/api/v1/webhooks', { url, events: ['webhook.test'] });
  const pair = async (make: (name: string) => Promise<{ id: string }>) => ({ changed: (await make('changed')).id, deleted: (await make('deleted')).id });
  const spare = {
    connection: await pair((name) => connection(name, 'push', { datasets: [{ name: 'users' }] })),
    destination: await pair(destination),
    mapping: await pair(emptyMapping),
    job: await pair((name) => made('POST', '/api/v1/jobs', jobBody(name))),
    webhook: await pair(() => webhookAt(`${localUrl}/hook`)),
  };
  const run = await made('POST', `/api/v1/jobs/${job.id}/runs`, { input: { [PUSH_DATASET]: RECORDS } });
  const evidence = await made('POST', '/api/v1/evidence/push', {
    destination_id: dest.id, target: TARGET, control_ref: 'Access Control', question_match: 'MFA', title: 'MFA enforced',
    source: 'schemathesis fixture', result: 'pass', payload: { enforced: true }, collected_at: new Date().toISOString(),
  });
  const webhook = await webhookAt(`${localUrl}/hook`);
  const sent = await made('POST', `/api/v1/webhooks/${webhook.id}/test`);
  let collection = await made('POST', `/api/v1/connections/${httpConnection.id}/collect?wait=30`, { datasets: ['http.items'] });
  // A busy worker may take longer than the wait: the collection is polled until it ends.
  for (let polls = 0; collection.status === 'running' && polls < 120; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    collection = await made('GET', `/api/v1/collections/${collection.id}`);
  }
  const snapshots = (collection.snapshots as { id: string }[] | undefined) ?? [];
  if (!snapshots.length) throw new Error(`fixture collection: no snapshot (${JSON.stringify(collection)})`);
  const diagnostic = await made('POST', '/api/v1/diagnostics');
  const workspace = await made('POST', '/api/v1/workspaces', { name: 'schemathesis' });
  const spareApiKey = await made('POST', '/api/v1/api-keys', { name: 'spare', scopes: ['config:read'] });
  const audit = await call('GET', '/api/v1/audit-log?limit=1');
  // A job with one rule: its run's result makes a check (the other jobs' mapping has none).
  const oneRule = await made('POST', '/api/v1/mappings', { name: 'one rule', rules: [{ id: 'users', dataset: PUSH_DATASET, control_ref: 'Access Control', question_match: 'users', title: 'Users', mode: 'info', when_empty: 'info' }] });
  const checkedJob = await made('POST', '/api/v1/jobs', { ...jobBody('checked job'), mapping_id: oneRule.id });
  await made('POST', `/api/v1/jobs/${checkedJob.id}/runs`, { input: { [PUSH_DATASET]: RECORDS } });
  let check: string | undefined;
  for (let polls = 0; !check && polls < 120; polls++) {
    const checks = await call('GET', `/api/v1/checks?job_id=${checkedJob.id}`);
    check = (checks.body as { data?: { id: string }[] }).data?.[0]?.id;
    if (!check) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!check) throw new Error('fixture check: the run made no check');
  const spareException = await made('POST', '/api/v1/exceptions', { check_id: check, reason: 'spare', owner: 'schemathesis', expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString() });
  const day = new Date().toISOString().slice(0, 10);
  const evidencePackage = await made('POST', '/api/v1/evidence-packages', { from: day, to: day });
  return {
    pushConnection: pushConnection.id, httpConnection: httpConnection.id, destination: dest.id, mapping: mapping.id,
    job: job.id, run: run.id, evidence: evidence.id, webhook: webhook.id, spare,
    webhookDelivery: String(sent.delivery_id), collection: collection.id, snapshot: snapshots[0]!.id, diagnostic: diagnostic.id,
    workspace: workspace.id, spareApiKey: spareApiKey.id, auditEntry: (audit.body as { data: { id: string }[] }).data[0]!.id,
    evidencePackage: evidencePackage.id, check, spareException: spareException.id, localUrl,
  };
}

type Toml = string | number | boolean | Toml[] | { [key: string]: Toml };

/** A TOML value (inline tables and arrays), for the config below. */
function toml(value: Toml): string {
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  if (typeof value === 'object') return `{ ${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)} = ${toml(v)}`).join(', ')} }`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * The schemathesis config: the reference ids no schema can express, as path parameters and
 * body overrides (`parameters`) and as dictionaries substituted where a generated body has
 * such a field; a "validation mismatch" (the API refusing what its document allows) fails the run.
 */
export function schemathesisConfig(f: Fixtures, options: { maxExamples: number }): string {
  const operations: { ids: string[]; parameters?: Record<string, Toml>; extra?: string[] }[] = [
    // References inside bodies: the ones the document names but cannot list.
    {
      ids: ['createJob', 'updateJob'],
      parameters: {
        'body.connection_id': f.pushConnection, 'body.mapping_id': f.mapping, 'body.mapping_version': 1, 'body.destination_id': f.destination,
        'body.datasets': [PUSH_DATASET], 'body.target': TARGET,
      },
    },
    { ids: ['pushEvidence'], parameters: { 'body.destination_id': f.destination, 'body.target': TARGET } },
    // A push job's runs take its datasets' records.
    { ids: ['triggerRun'], parameters: { 'path.id': f.job, 'body.input': { [PUSH_DATASET]: RECORDS } } },
    { ids: ['collectConnection'], parameters: { 'path.id': f.httpConnection, 'body.datasets': ['http.items'] } },
    // Endpoints the hub calls stay on this machine.
    { ids: ['createWebhook'], parameters: { 'body.url': `${f.localUrl}/hook` } },
    { ids: ['updateWebhook'], parameters: { 'path.id': f.spare.webhook.changed, 'body.url': `${f.localUrl}/hook` } },
    // Path ids: reads and actions on the fixtures; changes and deletions on spare ones.
    { ids: ['getConnection', 'testConnection'], parameters: { 'path.id': f.httpConnection } },
    { ids: ['updateConnection'], parameters: { 'path.id': f.spare.connection.changed } },
    { ids: ['deleteConnection'], parameters: { 'path.id': f.spare.connection.deleted } },
    { ids: ['getDestination', 'testDestination'], parameters: { 'path.id': f.destination } },
    { ids: ['updateDestination'], parameters: { 'path.id': f.spare.destination.changed } },
    { ids: ['deleteDestination'], parameters: { 'path.id': f.spare.destination.deleted } },
    { ids: ['getMapping', 'listMappingVersions', 'getMappingVersion', 'restoreMappingVersion'], parameters: { 'path.id': f.mapping, 'path.version': '1' } },
    { ids: ['updateMapping'], parameters: { 'path.id': f.spare.mapping.changed } },
    { ids: ['deleteMapping'], parameters: { 'path.id': f.spare.mapping.deleted } },
    { ids: ['getJob'], parameters: { 'path.id': f.job } },
    { ids: ['updateJob'], parameters: { 'path.id': f.spare.job.changed } },
    { ids: ['deleteJob'], parameters: { 'path.id': f.spare.job.deleted } },
    { ids: ['getRun', 'getRunStatus', 'cancelRun'], parameters: { 'path.id': f.run } },
    { ids: ['getEvidence'], parameters: { 'path.id': f.evidence } },
    { ids: ['getWebhook', 'testWebhook', 'listWebhookDeliveries', 'recoverWebhook', 'rotateWebhookSecret'], parameters: { 'path.id': f.webhook } },
    { ids: ['deleteWebhook'], parameters: { 'path.id': f.spare.webhook.deleted } },
    { ids: ['getWebhookDelivery', 'redeliverWebhook'], parameters: { 'path.id': f.webhookDelivery } },
    { ids: ['getCollection'], parameters: { 'path.id': f.collection } },
    { ids: ['getSnapshot'], parameters: { 'path.id': f.snapshot } },
    { ids: ['getDiagnostic'], parameters: { 'path.id': f.diagnostic } },
    { ids: ['getWorkspace', 'createWorkspaceApiKey'], parameters: { 'path.id': f.workspace } },
    { ids: ['revokeApiKey'], parameters: { 'path.id': f.spareApiKey } },
    { ids: ['getAuditLogEntry'], parameters: { 'path.id': f.auditEntry } },
    { ids: ['getEvidencePackage', 'downloadEvidencePackage', 'deleteEvidencePackage'], parameters: { 'path.id': f.evidencePackage } },
    { ids: ['getCheck', 'getCheckHistory'], parameters: { 'path.id': f.check } },
    // An expiry the API takes (in the future, within the maximum): no schema can say "from now".
    { ids: ['createException'], parameters: { 'body.check_id': f.check, 'body.expires_at': new Date(Date.now() + 30 * 86_400_000).toISOString() } },
    { ids: ['revokeException'], parameters: { 'path.id': f.spareException } },
    // Stored rules, snapshots and collections, wherever a preview names one.
    {
      ids: ['previewMapping', 'previewFailingRecords'],
      parameters: {
        'body.mapping_id': { dictionary: 'mapping_ids' }, 'body.snapshot_ids[*]': { dictionary: 'snapshot_ids' }, 'body.collection_id': { dictionary: 'collection_ids' },
      },
    },
    // Connections made by the run (any URL) are tested and collected from in the unit phases
    // only with the fixtures' ids: the stateful phase would call whatever URL it generated.
    { ids: ['testConnection', 'testDestination', 'collectConnection'], extra: ['phases.stateful.enabled = false'] },
    // The examples and coverage phases apply no body overrides: operations whose bodies name
    // other resources (or endpoints) are left to the fuzzing and stateful phases, which do.
    {
      ids: ['createJob', 'updateJob', 'pushEvidence', 'triggerRun', 'collectConnection', 'createWebhook', 'updateWebhook', 'createException'],
      extra: ['phases.examples.enabled = false', 'phases.coverage.enabled = false'],
    },
    // Coverage of the rule language's schema runs to tens of thousands of cases; fuzzing samples it.
    { ids: ['createMapping', 'updateMapping', 'previewMapping', 'previewFailingRecords'], extra: ['phases.coverage.enabled = false'] },
  ];
  const byOperation = new Map<string, { parameters: Record<string, Toml>; extra: string[] }>();
  for (const op of operations) {
    for (const id of op.ids) {
      const merged = byOperation.get(id) ?? { parameters: {}, extra: [] };
      Object.assign(merged.parameters, op.parameters);
      merged.extra.push(...(op.extra ?? []));
      byOperation.set(id, merged);
    }
  }
  return [
    `seed = 1`,
    '',
    '[generation]',
    // PostgreSQL text cannot hold NUL; the document says so (400).
    'allow-x00 = false',
    `max-examples = ${options.maxExamples}`,
    '',
    '[warnings]',
    'fail-on = ["validation_mismatch"]',
    '',
    '[dictionaries]',
    `mapping_ids = { values = [${JSON.stringify(f.mapping)}] }`,
    `snapshot_ids = { values = [${JSON.stringify(f.snapshot)}] }`,
    `collection_ids = { values = [${JSON.stringify(f.collection)}] }`,
    '',
    // One entry per operation: schemathesis takes an operation's parameters from one entry only.
    ...[...byOperation].flatMap(([id, op]) => [
      '[[operations]]',
      `include-operation-id = ${JSON.stringify(id)}`,
      ...(Object.keys(op.parameters).length ? [`parameters = ${toml(op.parameters)}`] : []),
      ...op.extra,
      '',
    ]),
  ].join('\n');
}

export interface SchemathesisRun {
  code: number | null;
  output: string;
  /** The last line of the summary, e.g. "==== 4371 passed, 2 warnings in 88.44s ====". */
  summary: string;
}

export const SCHEMATHESIS_CHECKS = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_schema_conformance', 'ignored_auth'];

/** Runs `schemathesis run` on the hub's document with `config` and the admin key. */
export async function runSchemathesis(command: string, options: { dir: string; url: string; key: string; config: string; maxExamples: number; seed: number; timeoutMs: number }): Promise<SchemathesisRun> {
  const configFile = path.join(options.dir, 'schemathesis.toml');
  await writeFile(configFile, options.config);
  const args = [
    '--config-file', configFile, 'run', `${options.url}/api/v1/openapi.json`,
    '--checks', SCHEMATHESIS_CHECKS.join(','), '-H', `X-API-Key: ${options.key}`,
    '--seed', String(options.seed), '--max-examples', String(options.maxExamples), '--workers', '1', '--no-color',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.dir, env: { ...process.env, PYTHONUNBUFFERED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      const summary = output.split('\n').filter((line) => /^=+ .* =+$/.test(line.trim())).at(-1)?.trim() ?? '(no summary line)';
      resolve({ code, output, summary });
    });
  });
}
