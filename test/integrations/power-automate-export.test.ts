import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { unzip } from '../helpers/zip.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/index.js';
import { crc32 } from '../../api/power-automate/icon.js';
import { OPENAPI_3_ONLY_KEYWORDS } from '../../api/power-automate/schema.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/**
 * The custom-connector rules that can be checked offline (Microsoft's certification
 * guidelines for custom connectors), over the files the CLI and the ZIP route generate.
 */

const FILES = ['apiDefinition.swagger.json', 'apiProperties.json', 'icon.png'] as const;
type Files = Record<(typeof FILES)[number], Buffer>;
/* eslint-disable @typescript-eslint/no-explicit-any -- the tests read arbitrary JSON */
type Json = any;

/** The x-ms-* extensions Microsoft documents for custom connectors ("Extend an OpenAPI definition for a custom connector"). */
const DOCUMENTED_X_MS = new Set([
  'x-ms-summary', 'x-ms-visibility', 'x-ms-api-annotation', 'x-ms-operation-context', 'x-ms-capabilities', 'x-ms-trigger',
  'x-ms-trigger-hint', 'x-ms-notification-content', 'x-ms-notification-url', 'x-ms-url-encoding', 'x-ms-dynamic-values',
  'x-ms-dynamic-list', 'x-ms-dynamic-schema', 'x-ms-dynamic-properties', 'x-ms-connector-metadata',
]);
/** Non-x-ms extensions Power Automate reads. */
const OTHER_EXTENSIONS = new Set(['x-nullable']);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

const tempDirs: string[] = [];
async function exportConnector(args: string[] = [], env: Record<string, string | undefined> = {}): Promise<{ dir: string; files: Files; out: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pa-export-'));
  tempDirs.push(dir);
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['power-automate', 'export', '--out', dir, ...args], { out: (l) => out.push(l), err: (l) => err.push(l) }, env);
  expect(err).toEqual([]);
  expect(code).toBe(0);
  const files = Object.fromEntries(await Promise.all(FILES.map(async (name) => [name, await readFile(path.join(dir, name))]))) as Files;
  return { dir, files, out };
}


/** Maps whose keys are names (of paths, properties, headers…), not keywords. */
const NAME_MAPS = new Set(['paths', 'properties', 'definitions', 'parameters', 'responses', 'headers', 'securityDefinitions', 'x-ms-capabilities']);

/** Every keyword of the definition with its JSON pointer (names of paths, properties… are not keywords). */
function keywords(node: unknown, pointer = '', out: { key: string; pointer: string; value: unknown }[] = []): { key: string; pointer: string; value: unknown }[] {
  if (Array.isArray(node)) node.forEach((item, i) => keywords(item, `${pointer}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      out.push({ key, pointer: `${pointer}/${key}`, value });
      if (NAME_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
        // `parameters` of an operation is an array of parameter objects; of the root or of x-ms-dynamic-values, a name map.
        for (const [name, child] of Object.entries(value)) keywords(child, `${pointer}/${key}/${name}`, out);
      } else keywords(value, `${pointer}/${key}`, out);
    }
  }
  return out;
}

function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) =>
    Object.entries(item as Record<string, Json>).filter(([m]) => METHODS.includes(m)).map(([method, op]) => ({ path: p, method, op })));
}

/** Every property schema of a response schema, with its pointer. */
function properties(schema: Json, pointer: string, out: { pointer: string; schema: Json }[] = []): { pointer: string; schema: Json }[] {
  if (!schema || typeof schema !== 'object') return out;
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
    out.push({ pointer: `${pointer}/properties/${name}`, schema: sub });
    properties(sub, `${pointer}/properties/${name}`, out);
  }
  if (schema.items) properties(schema.items, `${pointer}/items`, out);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') properties(schema.additionalProperties, `${pointer}/additionalProperties`, out);
  return out;
}

/** The PNG's chunks, each checked against its CRC. */
function pngChunks(png: Buffer): { type: string; data: Buffer }[] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('ascii');
    const data = png.subarray(at + 8, at + 8 + length);
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    chunks.push({ type, data });
    at += 12 + length;
  }
  return chunks;
}

let files: Files;
let doc: Json;
let props: Json;

beforeAll(async () => {
  ({ files } = await exportConnector());
  doc = JSON.parse(files['apiDefinition.swagger.json'].toString('utf8'));
  props = JSON.parse(files['apiProperties.json'].toString('utf8'));
});
afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('power automate export: the certification rules', () => {
  it('the CLI writes the three files', async () => {
    const { dir, out } = await exportConnector();
    expect(out).toEqual(FILES.map((name) => path.join(dir, name)));
  });

  it('is a valid Swagger 2.0 definition', async () => {
    expect(doc.swagger).toBe('2.0');
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it('uses only documented x-ms-* extensions (and x-nullable)', () => {
    const extensions = keywords(doc).filter(({ key }) => key.startsWith('x-'));
    expect(extensions.length).toBeGreaterThan(0);
    const unknown = extensions.filter(({ key }) => !DOCUMENTED_X_MS.has(key) && !OTHER_EXTENSIONS.has(key));
    expect(unknown.map((e) => e.pointer)).toEqual([]);
  });

  it('holds no OpenAPI 3.x / JSON Schema 2020-12 keyword anywhere, and no type array or null', () => {
    const all = keywords(doc);
    expect(all.filter(({ key }) => OPENAPI_3_ONLY_KEYWORDS.includes(key)).map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => key === 'type' && typeof value !== 'string').map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => key === 'type' && value === 'null').map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => key === 'enum' && (value as unknown[]).includes(null)).map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value !== 'boolean').map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => key === '$ref' && typeof value === 'string' && value.startsWith('#/components/')).map((k) => k.pointer)).toEqual([]);
    expect(all.filter(({ key, value }) => key === 'items' && Array.isArray(value)).map((k) => k.pointer)).toEqual([]);
  });

  it('has a bare host, a basePath and https unless the URL is http, and the API key on X-API-Key', async () => {
    expect(doc.host).toMatch(/^[A-Za-z0-9.-]+(:\d{1,5})?$/);
    expect(doc.host).toBe('localhost:8080');
    expect(doc.basePath).toBe('/');
    expect(doc.schemes).toEqual(['http']);
    expect(doc.securityDefinitions).toEqual({ api_key: { type: 'apiKey', in: 'header', name: 'X-API-Key' } });
    expect(doc.security).toEqual([{ api_key: [] }]);
    const proxied = JSON.parse((await exportConnector(['--public-url', 'https://grc.example.com:8443/evidence/'])).files['apiDefinition.swagger.json'].toString('utf8'));
    expect([proxied.host, proxied.basePath, proxied.schemes]).toEqual(['grc.example.com:8443', '/evidence', ['https']]);
    const fromEnv = JSON.parse((await exportConnector([], { HUB_PUBLIC_URL: 'https://hub.example.org' })).files['apiDefinition.swagger.json'].toString('utf8'));
    expect([fromEnv.host, fromEnv.basePath, fromEnv.schemes]).toEqual(['hub.example.org', '/', ['https']]);
    for (const p of Object.keys(doc.paths)) expect(p).toMatch(/^\/api\/v1\//);
  });

  it('has a title of at most 30 characters without API or Connector, and a description of 30 to 500', () => {
    expect(doc.info.title.length).toBeLessThanOrEqual(30);
    expect(doc.info.title).not.toMatch(/\b(api|connector)\b/i);
    expect(doc.info.description.length).toBeGreaterThanOrEqual(30);
    expect(doc.info.description.length).toBeLessThanOrEqual(500);
  });

  it('names every operation in PascalCase with a sentence-case summary and a full-sentence description', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(9);
    const ids = ops.map(({ op }) => op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of ops) {
      expect(op.operationId).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(op.summary.length, op.operationId).toBeLessThanOrEqual(80);
      expect(op.summary, op.operationId).toMatch(/^[A-Za-z0-9 ()]+$/);
      // Sentence case: a capital first letter, the rest of the words lower case.
      expect(op.summary, op.operationId).toMatch(/^[A-Z][a-z0-9 ()]*$/);
      expect(['important', 'advanced', 'internal']).toContain(op['x-ms-visibility']);
    }
    expect(ids).toEqual(expect.arrayContaining(['ListJobs', 'GetJob', 'RunJob', 'GetRun', 'ListRunEvidence', 'ListChecks', 'GetPosture', 'PushEvidence', 'TestConnection']));
    expect(ops.find(({ op }) => op.operationId === 'RunJob')).toMatchObject({ path: '/api/v1/jobs/{id}/runs', method: 'post', op: { summary: 'Run a job' } });
  });

  it('makes every description a sentence', () => {
    const descriptions = keywords(doc).filter(({ key, value }) => key === 'description' && typeof value === 'string');
    expect(descriptions.length).toBeGreaterThan(50);
    const bad = descriptions.filter(({ value }) => !/^[A-Z0-9`"'(][\s\S]*[.!?]$/.test(value as string));
    expect(bad.map((d) => `${d.pointer}: ${String(d.value)}`)).toEqual([]);
  });

  it('gives every parameter and every response field an x-ms-summary, and every parameter a visibility', () => {
    const missing: string[] = [];
    for (const { path: p, method, op } of operations(doc)) {
      for (const param of op.parameters as Json[]) {
        const at = `${method} ${p} ${param.name}`;
        if (!param['x-ms-summary']) missing.push(at);
        if (!['important', 'advanced', 'internal'].includes(param['x-ms-visibility']) && param.in !== 'body') missing.push(`${at} visibility`);
        if (param.in === 'body') for (const prop of properties(param.schema, `${at}`)) if (!prop.schema['x-ms-summary']) missing.push(prop.pointer);
      }
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        for (const prop of properties(response.schema, `${method} ${p} ${status}`)) if (!prop.schema['x-ms-summary']) missing.push(prop.pointer);
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares exact response schemas and no default response with a schema', () => {
    for (const { op } of operations(doc)) {
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => /^2\d\d$/.test(s)), op.operationId).toBe(true);
      if (op.responses.default) expect(op.responses.default.schema, op.operationId).toBeUndefined();
      for (const s of statuses.filter((x) => /^2\d\d$/.test(x))) expect(op.responses[s].schema, `${op.operationId} ${s}`).toBeTruthy();
    }
  });

  it('runs a job with the asynchronous pattern: 202 with Location and Retry-After, then the run', () => {
    const run = operations(doc).find(({ op }) => op.operationId === 'RunJob')!.op;
    expect(Object.keys(run.responses['202'].headers)).toEqual(expect.arrayContaining(['Location', 'Retry-After']));
    expect(run.responses['202'].headers['Retry-After'].type).toBe('integer');
    expect(run.responses['200'].schema.properties.status.enum).toContain('succeeded');
  });

  it('fills job, destination and connection ids from pickers over list operations', () => {
    const ops = operations(doc);
    const byId = new Map(ops.map(({ op }) => [op.operationId as string, op]));
    const pickers = keywords(doc).filter(({ key }) => key === 'x-ms-dynamic-values');
    expect(pickers.length).toBeGreaterThanOrEqual(5);
    for (const { pointer, value } of pickers as { pointer: string; value: Json }[]) {
      const list = byId.get(value.operationId);
      expect(list, pointer).toBeTruthy();
      const itemSchema = list.responses['200'].schema.properties[value['value-collection']].items;
      expect(itemSchema.properties[value['value-path']], pointer).toBeTruthy();
      expect(itemSchema.properties[value['value-title']], pointer).toBeTruthy();
    }
    expect(byId.get('ListDestinations')['x-ms-visibility']).toBe('internal');
    const jobParam = byId.get('RunJob').parameters.find((p: Json) => p.name === 'id');
    expect(jobParam['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListJobs', 'value-path': 'id', 'value-title': 'name' });
    const push = byId.get('PushEvidence').parameters.find((p: Json) => p.in === 'body').schema;
    expect(push.properties.destination_id['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListDestinations' });
    // The union of the destination types' target fields, since Swagger 2.0 has no anyOf.
    expect(Object.keys(push.properties.target.properties ?? {}).length).toBeGreaterThan(0);
  });

  it('names a test-connection operation in x-ms-capabilities: a GET without required parameters', () => {
    const id = doc['x-ms-capabilities'].testConnection.operationId;
    const found = operations(doc).find(({ op }) => op.operationId === id)!;
    expect(found).toMatchObject({ method: 'get', path: '/api/v1/me', op: { 'x-ms-visibility': 'internal' } });
    expect((found.op.parameters as Json[]).filter((p) => p.required)).toEqual([]);
  });

  it('declares the trigger When a hub event occurs: x-ms-notification-content on the path item, x-ms-trigger single, an internal required callback URL, 201 with Location, DELETE at that Location', () => {
    const triggers = operations(doc).filter(({ op }) => op['x-ms-trigger'] !== undefined);
    expect(triggers.map(({ op }) => [op.operationId, op['x-ms-trigger'], op.summary])).toEqual([['WhenAHubEventOccurs', 'single', 'When a hub event occurs']]);
    const { path: p, method, op } = triggers[0]!;
    expect([p, method]).toEqual(['/api/v1/integrations/power-automate/subscriptions', 'post']);
    // On the path item, not on the operation.
    const notification = doc.paths[p]['x-ms-notification-content'];
    expect(op['x-ms-notification-content']).toBeUndefined();
    expect(notification.description).toMatch(/\.$/);
    expect(notification.schema.required).toEqual(['id', 'type', 'timestamp', 'data']);
    expect(notification.schema.properties.type.enum).toContain('run.completed');
    for (const name of ['run_id', 'job_id', 'status', 'counts', 'started_at', 'ended_at']) expect(notification.schema.properties.data.properties[name], name).toBeTruthy();
    for (const prop of properties(notification.schema, 'notification')) expect(prop.schema['x-ms-summary'], prop.pointer).toBeTruthy();
    const body = (op.parameters as Json[]).find((x) => x.in === 'body');
    const urls = Object.entries(body.schema.properties as Record<string, Json>).filter(([, s]) => s['x-ms-notification-url'] === true);
    expect(urls.map(([name, s]) => [name, s['x-ms-visibility']])).toEqual([['callback_url', 'internal']]);
    expect(body.schema.required).toEqual(expect.arrayContaining(['callback_url', 'event_type']));
    expect(body.schema.properties.event_type['x-ms-dynamic-values']).toMatchObject({ operationId: 'ListEventTypes', 'value-collection': 'data', 'value-path': 'type' });
    expect(Object.keys(op.responses['201'].headers)).toEqual(['Location']);
    const remove = operations(doc).find(({ op: o }) => o.operationId === 'DeleteHubEventSubscription')!;
    expect([remove.path, remove.method, remove.op['x-ms-visibility']]).toEqual([`${p}/{id}`, 'delete', 'internal']);
  });

  it('keeps the definition under 1 MB', () => {
    expect(files['apiDefinition.swagger.json'].length).toBeLessThan(1024 * 1024);
  });

  it('has apiProperties.json with the API key as a secure string, the brand colour, capabilities, publisher and stackOwner', () => {
    const p = props.properties;
    expect(p.connectionParameters.api_key.type).toBe('securestring');
    expect(p.connectionParameters.api_key.uiDefinition.displayName).toBeTruthy();
    expect(p.iconBrandColor).toMatch(/^#[0-9a-f]{6}$/i);
    expect(p.iconBrandColor.toLowerCase()).not.toBe('#ffffff');
    expect(Array.isArray(p.capabilities)).toBe(true);
    expect(p.publisher).toBeTruthy();
    expect(p.stackOwner).toBeTruthy();
  });

  it('draws a 230×230 PNG on the brand colour', () => {
    const chunks = pngChunks(files['icon.png']);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = chunks[0]!.data;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9]]).toEqual([230, 230, 8, 2]);
    const raw = inflateSync(chunks[1]!.data);
    expect(raw.length).toBe(230 * (1 + 230 * 3));
    const pixel = (x: number, y: number) => '#' + [0, 1, 2].map((c) => raw[y * (1 + 230 * 3) + 1 + x * 3 + c]!.toString(16).padStart(2, '0')).join('');
    expect(pixel(0, 0)).toBe(props.properties.iconBrandColor.toLowerCase());
    expect(pixel(229, 229)).toBe(props.properties.iconBrandColor.toLowerCase());
    expect(pixel(115, 60)).toBe('#ffffff'); // the shield
  });

  it('is byte-identical across two exports, and another public URL changes only host, basePath and schemes', async () => {
    const again = await exportConnector();
    for (const name of FILES) expect(again.files[name].equals(files[name]), name).toBe(true);
    const other = await exportConnector(['--public-url', 'https://grc.example.com/hub']);
    expect(other.files['apiProperties.json'].equals(files['apiProperties.json'])).toBe(true);
    expect(other.files['icon.png'].equals(files['icon.png'])).toBe(true);
    const a = JSON.parse(files['apiDefinition.swagger.json'].toString('utf8'));
    const b = JSON.parse(other.files['apiDefinition.swagger.json'].toString('utf8'));
    const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    expect(differing.sort()).toEqual(['basePath', 'host', 'schemes']);
  });

  it('writes the same ZIP in every time zone', async () => {
    // A ZIP's entry times are local wall-clock fields: two processes in far-apart zones must agree.
    const script = "import { connectorZip } from './api/power-automate/connector.ts'; import { createHash } from 'node:crypto';" +
      " const files = { 'apiDefinition.swagger.json': Buffer.from('{}'), 'apiProperties.json': Buffer.from('{}'), 'icon.png': Buffer.from('png') };" +
      " connectorZip(files).then((zip) => process.stdout.write(createHash('sha256').update(zip).digest('hex')));";
    const digest = async (tz: string) => (await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, TZ: tz } })).stdout;
    const [utc, tokyo, honolulu] = await Promise.all([digest('UTC'), digest('Asia/Tokyo'), digest('Pacific/Honolulu')]);
    expect(utc).toMatch(/^[0-9a-f]{64}$/);
    expect([tokyo, honolulu]).toEqual([utc, utc]);
  });

  it('refuses a --public-url that is not http(s)', async () => {
    const err: string[] = [];
    expect(await main(['power-automate', 'export', '--out', os.tmpdir(), '--public-url', 'ftp://x'], { out: () => {}, err: (l) => err.push(l) }, {})).toBe(2);
    expect(err.join('\n')).toMatch(/http\(s\) URL/);
  });
});

describe('power automate export: the ZIP route', () => {
  let t: TestHub;
  beforeAll(async () => { t = await startTestHub(); }, 120_000);
  afterAll(async () => { await t?.stop(); });

  const download = async (key: string) => {
    const response = await fetch(`${t.url}/api/v1/integrations/power-automate/connector.zip`, { headers: { 'x-api-key': key } });
    return { status: response.status, type: response.headers.get('content-type'), body: Buffer.from(await response.arrayBuffer()) };
  };

  it('answers 200 application/zip with the three files for an admin key, the same as the CLI writes for that URL', async () => {
    const zip = await download(t.adminKey);
    expect(zip.status).toBe(200);
    expect(zip.type).toMatch(/^application\/zip/);
    const entries = await unzip(zip.body);
    expect([...entries.keys()]).toEqual([...FILES]);
    const served = JSON.parse(entries.get('apiDefinition.swagger.json')!.toString('utf8'));
    expect(served.host).toBe(new URL(t.url).host);
    expect(served.schemes).toEqual(['http']);
    const cli = await exportConnector(['--public-url', t.url]);
    for (const name of FILES) expect(entries.get(name)!.equals(cli.files[name]), name).toBe(true);
    // Deterministic: the same ZIP twice.
    expect((await download(t.adminKey)).body.equals(zip.body)).toBe(true);
  });

  it('answers 403 for a key without admin (runs:read)', async () => {
    const key = await t.call('POST', '/api/v1/api-keys', { json: { name: 'flow reader', scopes: ['runs:read'] } });
    expect(key.status).toBe(201);
    const zip = await download(key.body.key);
    expect(zip.status).toBe(403);
  });

  it('is in the OpenAPI document as an application/zip response needing admin', async () => {
    const openApi = await t.call('GET', '/api/v1/openapi.json');
    const op = openApi.body.paths['/api/v1/integrations/power-automate/connector.zip'].get;
    expect(op['x-required-scopes']).toEqual(['admin']);
    expect(Object.keys(op.responses['200'].content)).toEqual(['application/zip']);
  });
});
