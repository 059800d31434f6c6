import { mkdir, writeFile } from 'node:fs/promises';
import { packageVersion } from '../lib/package-version.js';
import os from 'node:os';
import path from 'node:path';
import { createApp, type ApiDeps } from '../api/app.js';
import type { RouteSpec } from '../api/route.js';
import { buildConnector, CONNECTOR_FILES } from '../api/power-automate/connector.js';
import { builtInConnectors } from '../connectors/index.js';
import { loadConfig } from '../config.js';
import { EXIT, type CliIo } from './io.js';

/** Where the connector points when neither --public-url nor HUB_PUBLIC_URL says. */
export const DEFAULT_PUBLIC_URL = 'http://localhost:8080';

/**
 * A stand-in for every dependency of the API: whatever is read from it is another stand-in,
 * and calling it gives one back. The route factories only keep their dependencies for their
 * handlers (none does I/O while its routes are declared), so `createApp` builds the very
 * route list the hub mounts, without a database, Temporal or a network; no handler is ever
 * called on it.
 */
function inert(): unknown {
  const target = function inertDependency() { /* never called for real */ };
  const proxy: unknown = new Proxy(target, {
    get: (_t, property) => (property === 'then' ? undefined : property === Symbol.toPrimitive ? () => '' : proxy),
    apply: () => proxy,
    construct: () => proxy as object,
  });
  return proxy;
}

/**
 * The hub's route declarations, exactly as api/app.ts lists them, built without a database,
 * Temporal or a network: the declarations' own inputs are real (the connector registry,
 * whose types shape the schemas, and the configuration read from `env` as the hub reads it);
 * the rest are inert stand-ins, since no handler is ever called.
 */
export function routeDeclarations(version: string, env: Record<string, string | undefined> = process.env): RouteSpec[] {
  const config = loadConfig(env);
  const silent = { debug() {}, info() {}, warn() {}, error() {}, fatal() {}, trace() {}, child: () => silent };
  const deps = new Proxy({
    logger: silent as unknown as ApiDeps['logger'],
    registry: builtInConnectors({ aws: { allowAmbientCredentials: config.allowAmbientAwsCredentials } }),
    allowPrivateNetworks: config.allowPrivateNetworks,
    publicUrl: config.publicUrl,
    webhookConfig: config.webhooks,
    rateLimitPerMinute: config.rateLimitPerMinute,
    jsonBodyLimitBytes: config.jsonBodyLimitBytes,
    jsonMaxDepth: config.jsonMaxDepth,
    exceptionMaxDurationMs: config.exceptionMaxDurationMs,
    // A directory that holds no console build: nothing is loaded.
    console: { dir: path.join(os.tmpdir(), 'evidence-hub-no-console'), temporalUiUrl: null, temporalNamespace: config.temporal.namespace },
    mcpAllowedOrigins: [],
    version,
  } as Partial<ApiDeps>, {
    get: (known, property) => (property in known ? known[property as keyof ApiDeps] : inert()),
  }) as ApiDeps;
  return createApp(deps).routes;
}


/** `evidence-hub power-automate export --out <dir> [--public-url <url>]`: the three connector files. */
export async function exportPowerAutomateConnector(outDir: string, publicUrl: string | undefined, io: CliIo, env: Record<string, string | undefined> = process.env): Promise<number> {
  const target = publicUrl ?? DEFAULT_PUBLIC_URL;
  try {
    const url = new URL(target);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    io.err(`--public-url (or HUB_PUBLIC_URL) must be an http(s) URL, got ${target}`);
    return EXIT.usage;
  }
  const version = await packageVersion();
  let routes: RouteSpec[];
  try {
    routes = routeDeclarations(version, env);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return EXIT.usage;
  }
  const files = buildConnector(routes, { publicUrl: target, version });
  await mkdir(outDir, { recursive: true });
  for (const name of CONNECTOR_FILES) {
    await writeFile(path.join(outDir, name), files[name]);
    io.out(path.join(outDir, name));
  }
  return EXIT.ok;
}
