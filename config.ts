import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDuration, parseDurationList } from './lib/duration.js';
import { ConfigError } from './lib/errors.js';
import type { EvidencePackageConfig } from './store/evidence-packages.js';
import type { WebhookConfig } from './webhooks/config.js';

export type { EvidencePackageConfig, WebhookConfig };

/** Everything the hub reads from its environment, read and validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string | null;
  dataDir: string;
  databaseUrl: string | null;
  temporal: {
    /** null means: start the embedded dev server. */
    address: string | null;
    namespace: string;
    cliPath: string | null;
    /** Ports of the embedded dev server (gRPC and UI). */
    embeddedPort: number;
    embeddedUiPort: number;
    taskQueue: string;
  };
  adminKey: string | null;
  masterKey: string | null;
  rateLimitPerMinute: number;
  allowPrivateNetworks: boolean;
  allowAmbientAwsCredentials: boolean;
  jsonBodyLimitBytes: number;
  /** Deepest nesting of a JSON request body (refused before parsing). */
  jsonMaxDepth: number;
  logLevel: string;
  /** Evidence delivery retries (docs/architecture.md, "Delivery"): exponential from initial to max, then failed. */
  deliveryRetry: { initialIntervalMs: number; maximumIntervalMs: number; maximumAttempts: number };
  webhooks: WebhookConfig;
  /** Mapping previews: run on worker threads, each bounded. */
  preview: { deadlineMs: number; maxResponseBytes: number; perWorkspace: number; threads: number; threadHeapMb: number };
  /** A run still queued this long after it was accepted has its workflow started by a worker (or found running). */
  queuedRunGraceMs: number;
  /** How often checks past their freshness window are looked for (each goes stale once, with evidence.stale). */
  staleCheckIntervalMs: number;
  /** The longest an exception (risk acceptance) may run before it expires. */
  exceptionMaxDurationMs: number;
  /** Evidence packages: how long a ready one is kept, and what one workspace may hold. */
  evidencePackages: EvidencePackageConfig;
  /** Outbound answers are bounded: a size cap per response, read while it streams, and a total deadline per request. */
  outbound: { maxResponseBytes: number; maxResponseBytesLimit: number; requestTimeoutMs: number; connectionTestTimeoutMs: number; connectionTestMaxResponseBytes: number };
  /** A collection of one dataset stops for good (not retried) past this many records, or this long after it started. */
  collection: { maxRecords: number; deadlineMs: number };
  /** The web console: where its built assets are, how long an idle session lives, where the Temporal UI is. */
  console: { dir: string; sessionIdleMs: number; temporalUiUrl: string | null };
  /** The MCP endpoint: browser origins allowed besides the hub's own and loopback ones. */
  mcp: { allowedOrigins: string[] };
}

/** The console's build output: dist/console beside the compiled hub, or under dist/ when running from source. */
function defaultConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(here) === 'dist' ? path.join(here, 'console') : path.join(here, 'dist', 'console');
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function duration(env: Env, name: string, fallback: string, min: number, max: number): number {
  const raw = env[name] || fallback;
  const value = parseDuration(raw);
  if (value === null || value < min || value > max) {
    throw new ConfigError(`${name} must be a duration such as 500ms, 5s, 30m, 2h or 5d between ${min} ms and ${max} ms, got "${raw}"`);
  }
  return value;
}

function durationList(env: Env, name: string, fallback: string): number[] {
  const raw = env[name] || fallback;
  const value = parseDurationList(raw);
  if (!value || value.length > 20 || value.some((v) => v > 7 * 86_400_000)) {
    throw new ConfigError(`${name} must be a comma-separated list of at most 20 durations (e.g. 5s,5m,30m,2h), each at most 7d, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string): string | null {
  const raw = env[name];
  if (!raw) return null;
  try {
    const parsed = new URL(raw);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('scheme');
    return raw.replace(/\/+$/, '');
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got "${raw}"`);
  }
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const embeddedPort = int(env, 'HUB_TEMPORAL_PORT', 7233, 1, 65535);
  return {
    port: int(env, 'PORT', 8080, 0, 65535),
    host: env.HUB_HOST || '0.0.0.0',
    publicUrl: url(env, 'HUB_PUBLIC_URL'),
    dataDir: path.resolve(env.HUB_DATA_DIR || './data'),
    databaseUrl,
    temporal: {
      address: env.TEMPORAL_ADDRESS || null,
      namespace: env.TEMPORAL_NAMESPACE || 'default',
      cliPath: env.TEMPORAL_CLI_PATH || null,
      embeddedPort,
      embeddedUiPort: int(env, 'HUB_TEMPORAL_UI_PORT', 8233, 1, 65535),
      taskQueue: env.HUB_TASK_QUEUE || 'evidence-hub',
    },
    adminKey: env.HUB_ADMIN_KEY || null,
    masterKey: env.HUB_MASTER_KEY || null,
    rateLimitPerMinute: int(env, 'HUB_RATE_LIMIT_PER_MINUTE', 300, 1, 1_000_000),
    allowPrivateNetworks: bool(env, 'HUB_ALLOW_PRIVATE_NETWORKS', false),
    allowAmbientAwsCredentials: bool(env, 'HUB_ALLOW_AMBIENT_AWS_CREDENTIALS', false),
    jsonBodyLimitBytes: int(env, 'HUB_JSON_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    jsonMaxDepth: int(env, 'HUB_JSON_MAX_DEPTH', 64, 2, 10_000),
    logLevel: env.LOG_LEVEL || 'info',
    deliveryRetry: {
      initialIntervalMs: int(env, 'HUB_DELIVERY_RETRY_INITIAL_MS', 1_000, 10, 3_600_000),
      maximumIntervalMs: int(env, 'HUB_DELIVERY_RETRY_MAX_MS', 60_000, 10, 86_400_000),
      maximumAttempts: int(env, 'HUB_DELIVERY_MAX_ATTEMPTS', 10, 1, 1000),
    },
    webhooks: {
      retryScheduleMs: durationList(env, 'HUB_WEBHOOK_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h'),
      retryJitter: Number(int(env, 'HUB_WEBHOOK_RETRY_JITTER_PERCENT', 20, 0, 100)) / 100,
      disableAfterMs: duration(env, 'HUB_WEBHOOK_DISABLE_AFTER', '5d', 1_000, 365 * 86_400_000),
      requestTimeoutMs: duration(env, 'HUB_WEBHOOK_TIMEOUT', '15s', 100, 120_000),
      maxInFlightPerEndpoint: int(env, 'HUB_WEBHOOK_MAX_IN_FLIGHT', 8, 1, 1000),
      secretGraceMs: duration(env, 'HUB_WEBHOOK_SECRET_GRACE', '24h', 0, 30 * 86_400_000),
      httpsOnly: bool(env, 'HUB_WEBHOOK_HTTPS_ONLY', false),
      dispatchIntervalMs: duration(env, 'HUB_WEBHOOK_DISPATCH_INTERVAL', '100ms', 10, 60_000),
    },
    queuedRunGraceMs: duration(env, 'HUB_QUEUED_RUN_GRACE', '30s', 1_000, 3_600_000),
    staleCheckIntervalMs: duration(env, 'HUB_STALE_CHECK_INTERVAL', '1m', 1_000, 3_600_000),
    exceptionMaxDurationMs: duration(env, 'HUB_EXCEPTION_MAX_DURATION', '365d', 60_000, 3_650 * 86_400_000),
    evidencePackages: {
      ttlMs: duration(env, 'HUB_EVIDENCE_PACKAGE_TTL', '7d', 60_000, 3_650 * 86_400_000),
      quotaCount: int(env, 'HUB_EVIDENCE_PACKAGE_QUOTA_COUNT', 50, 1, 1_000_000),
      quotaBytes: int(env, 'HUB_EVIDENCE_PACKAGE_QUOTA_BYTES', 10 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
    },
    preview: {
      deadlineMs: duration(env, 'HUB_PREVIEW_DEADLINE', '10s', 100, 600_000),
      maxResponseBytes: int(env, 'HUB_PREVIEW_MAX_RESPONSE_BYTES', 5 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      perWorkspace: int(env, 'HUB_PREVIEW_CONCURRENCY', 2, 1, 1000),
      threads: int(env, 'HUB_PREVIEW_THREADS', 2, 1, 64),
      threadHeapMb: int(env, 'HUB_PREVIEW_THREAD_HEAP_MB', 1024, 64, 65_536),
    },
    outbound: outboundLimits(env),
    collection: {
      maxRecords: int(env, 'HUB_COLLECTION_MAX_RECORDS', 5_000_000, 1, 1_000_000_000),
      deadlineMs: duration(env, 'HUB_COLLECTION_DEADLINE', '4h', 1_000, 30 * 86_400_000),
    },
    console: {
      dir: path.resolve(env.HUB_CONSOLE_DIR || defaultConsoleDir()),
      sessionIdleMs: duration(env, 'HUB_CONSOLE_SESSION_IDLE', '8h', 60_000, 30 * 86_400_000),
      temporalUiUrl: url(env, 'HUB_TEMPORAL_UI_URL'),
    },
    mcp: { allowedOrigins: originList(env, 'HUB_MCP_ALLOWED_ORIGINS') },
  };
}

/** A comma-separated list of browser origins (scheme://host[:port]), each checked. */
function originList(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(`${name} must list origins such as https://assistant.example.com, got "${raw}"`);
    }
    if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== raw.replace(/\/+$/, '')) {
      throw new ConfigError(`${name} must list origins (scheme://host[:port], no path), got "${raw}"`);
    }
    return parsed.origin;
  });
}

function outboundLimits(env: Env): Config['outbound'] {
  const maxResponseBytes = int(env, 'HUB_MAX_RESPONSE_BYTES', 64 * 1024 * 1024, 1024, 16 * 1024 * 1024 * 1024);
  const maxResponseBytesLimit = int(env, 'HUB_MAX_RESPONSE_BYTES_LIMIT', Math.max(256 * 1024 * 1024, maxResponseBytes), 1024, 16 * 1024 * 1024 * 1024);
  if (maxResponseBytesLimit < maxResponseBytes) {
    throw new ConfigError(`HUB_MAX_RESPONSE_BYTES_LIMIT (${maxResponseBytesLimit}) must be at least HUB_MAX_RESPONSE_BYTES (${maxResponseBytes}): it is the most a connection's max_response_mb may raise the cap to`);
  }
  return {
    maxResponseBytes,
    maxResponseBytesLimit,
    requestTimeoutMs: duration(env, 'HUB_OUTBOUND_REQUEST_TIMEOUT', '60s', 100, 3_600_000),
    connectionTestTimeoutMs: duration(env, 'HUB_CONNECTION_TEST_TIMEOUT', '20s', 100, 120_000),
    connectionTestMaxResponseBytes: int(env, 'HUB_CONNECTION_TEST_MAX_RESPONSE_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
  };
}
