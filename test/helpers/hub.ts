import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../config.js';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { startHub, type Hub } from '../../hub.js';
import { createLogger } from '../../lib/logger.js';
import { newId } from '../../lib/ids.js';
import { createDatabase } from './database.js';

export type Backend = 'pglite' | 'postgres';
export const BACKENDS: Backend[] = ['pglite', 'postgres'];

export interface TestHub {
  hub: Hub;
  config: Config;
  url: string;
  adminKey: string;
  dataDir: string;
  /** Every log line the hub wrote (JSON strings). */
  logs: string[];
  call: ApiCaller;
  stop(): Promise<void>;
}

export interface CallOptions {
  key?: string | null;
  json?: unknown;
  /** A raw body sent as is (with `contentType`). */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}
export interface CallResult {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
  text: string;
}
export type ApiCaller = (method: string, path: string, options?: CallOptions) => Promise<CallResult>;

export function caller(baseUrl: string, defaultKey: string | null): ApiCaller {
  return async (method, urlPath, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? defaultKey : options.key;
    if (key) headers['x-api-key'] = key;
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.body !== undefined) {
      body = options.body;
      if (options.contentType) headers['content-type'] = options.contentType;
    }
    const response = await fetch(urlPath.startsWith('http') ? urlPath : baseUrl + urlPath, { method, headers, body, redirect: 'manual' });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
}

/** A fresh PostgreSQL database on the test server, so each hub starts empty. */
export async function freshPostgresDatabase(): Promise<string> {
  const serverUrl = inject('databaseUrl');
  if (!serverUrl) throw new Error('no PostgreSQL server for tests: run through `npm test` (globalSetup starts one) or set TEST_DATABASE_URL');
  return createDatabase(serverUrl, `hub_${newId('t').replace(/[^a-z0-9]/g, '')}`);
}

export interface TestHubOptions {
  backend?: Backend;
  env?: Record<string, string>;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  databaseUrl?: string;
  /** `api`: no worker in this process (workers run as child processes, see spawnWorker). */
  role?: 'all' | 'api';
}

/**
 * The whole hub (API + worker) in this process, against the shared Temporal server, with its
 * own data dir, database and task queue so that test files never see each other's work.
 */
export async function startTestHub(options: TestHubOptions = {}): Promise<TestHub> {
  const temporalAddress = inject('temporalAddress');
  const bundleCode = inject('workflowBundleCode');
  if (!temporalAddress || !bundleCode) throw new Error('no Temporal server for tests: run through `npm test`');
  const ownsDir = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'hub-test-')));
  const databaseUrl = options.databaseUrl ?? (options.backend === 'postgres' ? await freshPostgresDatabase() : undefined);
  const config = loadConfig({
    PORT: '0',
    HUB_HOST: '127.0.0.1',
    HUB_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    HUB_TASK_QUEUE: `test-${newId('q')}`,
    ...(options.role === 'api' ? { HUB_MASTER_KEY: randomBytes(32).toString('base64') } : {}),
    HUB_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'debug',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...options.env,
  });
  const logs: string[] = [];
  const logger = createLogger(config.logLevel, { write: (line: string) => { logs.push(line); } });
  const hub = await startHub(config, options.role ?? 'all', { logger, workflowBundle: { code: bundleCode } });
  const adminKey = config.adminKey ?? hub.bootstrap?.generatedKey ?? (await import('node:fs/promises')).readFile(path.join(dataDir, 'admin-key'), 'utf8').then((k) => k.trim());
  const key = await adminKey;
  return {
    hub,
    config,
    url: hub.url!,
    adminKey: key,
    dataDir,
    logs,
    call: caller(hub.url!, key),
    async stop() {
      await hub.stop();
      if (ownsDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a workspace and an admin key in it; returns a caller bound to that key. */
export async function newWorkspace(t: TestHub, name = 'other'): Promise<{ id: string; key: string; call: ApiCaller }> {
  const ws = await t.call('POST', '/api/v1/workspaces', { json: { name } });
  if (ws.status !== 201) throw new Error(`workspace: ${ws.status} ${ws.text}`);
  const key = await t.call('POST', `/api/v1/workspaces/${ws.body.id}/api-keys`, { json: { name: 'admin', scopes: ['admin'] } });
  if (key.status !== 201) throw new Error(`key: ${key.status} ${key.text}`);
  return { id: ws.body.id, key: key.body.key, call: caller(t.url, key.body.key) };
}

export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, { timeoutMs = 30_000, intervalMs = 100 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const root = path.resolve(import.meta.dirname, '../..');

/**
 * A hub worker as its own OS process (`main.ts worker`), polling the test hub's task queue,
 * so that tests can kill it for real (SIGKILL) in the middle of an activity.
 */
export async function spawnWorker(t: TestHub, extraEnv: Record<string, string> = {}): Promise<{ process: ChildProcess; output: () => string; kill(): Promise<void> }> {
  const { config } = t;
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts', 'worker'], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: config.temporal.address!,
      TEMPORAL_NAMESPACE: config.temporal.namespace,
      HUB_TASK_QUEUE: config.temporal.taskQueue,
      DATABASE_URL: config.databaseUrl!,
      HUB_MASTER_KEY: config.masterKey!,
      HUB_DATA_DIR: config.dataDir,
      HUB_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { output += c.toString(); });
  await eventually(async () => output.includes('worker polling') || child.exitCode !== null, { timeoutMs: 90_000 });
  if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
  return {
    process: child,
    output: () => output,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
