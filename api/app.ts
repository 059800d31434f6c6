import express, { type Express, type RequestHandler } from 'express';
import { HubError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { Authenticator, requireAuth } from './auth.js';
import { actingWorkspace } from './acting-workspace.js';
import { consoleAssets } from './console-assets.js';
import { sessionAuth, type ConsoleSessions } from './console-session.js';
import { sessionRoutes } from './routers/sessions.js';
import { idempotency } from './idempotency.js';
import { buildOpenApi } from './openapi.js';
import { notFoundHandler, problemHandler } from './problem.js';
import { FixedWindowRateLimiter, rateLimit, unverifiedKeyGate, type RateLimiter } from './rate-limit.js';
import { requestId } from './request-id.js';
import { requestLog } from './request-log.js';
import type { RouteSpec } from './route.js';
import { compileBodyValidator, compileQueryValidator } from './validation.js';
import type { Db } from '../store/db.js';
import type { Stores } from '../store/index.js';
import type { TemporalGateway } from '../temporal/gateway.js';
import type { BlobStore } from '../store/blobs.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { OutboundHttp } from '../connectors/http-client.js';
import { collectionRoutes } from './routers/collections.js';
import { connectionRoutes } from './routers/connections.js';
import { mappingRoutes } from './routers/mappings.js';
import { jobRoutes } from './routers/jobs.js';
import { runRoutes } from './routers/runs.js';
import { evidenceRoutes } from './routers/evidence.js';
import { checkRoutes } from './routers/checks.js';
import { exceptionRoutes } from './routers/exceptions.js';
import { evidencePackageRoutes } from './routers/evidence-packages.js';
import type { ValetTokens } from '../lib/valet-token.js';
import type { JobSchedules } from '../temporal/schedules.js';
import type { WorkflowStarter } from '../temporal/starters.js';
import type { PreviewPool } from './preview/pool.js';
import { jsonDepthExceeds } from '../lib/json-depth.js';
import { apiKeyRoutes } from './routers/api-keys.js';
import { auditLogRoutes } from './routers/audit-log.js';
import { diagnosticsRoutes } from './routers/diagnostics.js';
import { healthRoutes } from './routers/health.js';
import { metaRoutes } from './routers/meta.js';
import { workspaceRoutes } from './routers/workspaces.js';
import { webhookRoutes } from './routers/webhooks.js';
import { integrationRoutes } from './routers/integrations.js';
import { mcpEndpoint } from './mcp/http.js';
import type { WebhookConfig } from '../webhooks/config.js';

export interface ApiDeps {
  db: Db;
  logger: Logger;
  temporal: TemporalGateway;
  stores: Stores;
  blobs: BlobStore;
  /** Mapping previews, on worker threads. */
  preview: PreviewPool;
  http: OutboundHttp;
  registry: ConnectorRegistry;
  allowPrivateNetworks: boolean;
  schedules: JobSchedules;
  valet: ValetTokens;
  publicUrl: string | null;
  /** Every workflow the API starts goes through it. */
  starter: WorkflowStarter;
  webhookConfig: WebhookConfig;
  rateLimitPerMinute: number;
  /** The rate limiter (shared through PostgreSQL by several API processes); else one counting in this process. */
  rateLimiter?: RateLimiter;
  jsonBodyLimitBytes: number;
  /** Deepest nesting of a JSON body. */
  jsonMaxDepth: number;
  version: string;
  /** The longest an exception may run. */
  exceptionMaxDurationMs: number;
  /** Console sign-ins (sealed cookies over database rows). */
  sessions: ConsoleSessions;
  /** The web console: its built assets, and where run pages link the Temporal UI. */
  console: { dir: string; temporalUiUrl: string | null; temporalNamespace: string };
  /** Browser origins the MCP endpoint accepts besides the hub's own and loopback ones. */
  mcpAllowedOrigins: readonly string[];
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** A body is present when the request says so; only JSON bodies are accepted. */
const requireJsonContentType: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && !req.is(JSON_TYPES)) {
    throw new HubError(415, 'Unsupported Media Type', `Send the request body as application/json (got ${req.get('content-type') ?? 'no Content-Type'}).`);
  }
  next();
};

function mount(app: Express, route: RouteSpec, idempotencyMiddleware: RequestHandler): void {
  const validateBody = route.body ? compileBodyValidator(route.body) : null;
  const validateQuery = route.query ? compileQueryValidator(route.query) : null;
  const chain: RequestHandler[] = [requireAuth(route.auth)];
  chain.push((req, res, next) => {
    if (validateQuery) {
      const query = { ...(req.query as Record<string, unknown>) };
      validateQuery(query);
      res.locals.query = query;
    }
    if (validateBody) {
      if (req.body === undefined && route.bodyOptional) req.body = {};
      validateBody(req.body === undefined ? {} : req.body);
      req.body ??= {};
    } else if (req.body !== undefined && Object.keys(req.body as object).length > 0) {
      throw HubError.validation([{ pointer: '', message: 'this operation takes no request body' }]);
    }
    next();
  });
  if (route.idempotent) chain.push(idempotencyMiddleware);
  chain.push(async (req, res) => { await route.handler(req, res); });
  app[route.method](route.path, ...chain);
}

export function createApp(deps: ApiDeps): { app: Express; routes: RouteSpec[] } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');

  const authenticator = new Authenticator(deps.stores.keys);
  const limiter = deps.rateLimiter ?? new FixedWindowRateLimiter(deps.rateLimitPerMinute);

  const routes: RouteSpec[] = [];
  let openApi: Record<string, unknown> | null = null;
  const document = () => (openApi ??= buildOpenApi(routes, { version: deps.version }));
  // What every mutating route needs to record its change in the audit log, in its transaction.
  const audit = { db: deps.db, auditLog: deps.stores.auditLog };
  const { starter } = deps;
  routes.push(
    ...healthRoutes({ db: deps.db, temporal: deps.temporal }),
    ...metaRoutes(document),
    ...sessionRoutes({ ...audit, sessions: deps.sessions, authenticator, publicUrl: deps.publicUrl, temporalUiUrl: deps.console.temporalUiUrl, temporalNamespace: deps.console.temporalNamespace }),
    ...apiKeyRoutes({ ...audit, keys: deps.stores.keys, authenticator, sessions: deps.sessions }),
    ...workspaceRoutes({ ...audit, workspaces: deps.stores.workspaces }),
    ...diagnosticsRoutes({ ...audit, diagnostics: deps.stores.diagnostics, starter }),
    ...connectionRoutes({ ...deps.stores, db: deps.db, registry: deps.registry, http: deps.http, logger: deps.logger, allowPrivateNetworks: deps.allowPrivateNetworks }),
    ...collectionRoutes({ ...deps.stores, ...audit, blobs: deps.blobs, registry: deps.registry, starter }),
    ...mappingRoutes({ ...deps.stores, ...audit, preview: deps.preview }),
    ...jobRoutes({ ...deps.stores, ...audit, registry: deps.registry, schedules: deps.schedules }),
    ...runRoutes({ ...deps.stores, ...audit, blobs: deps.blobs, registry: deps.registry, starter, valet: deps.valet, publicUrl: deps.publicUrl }),
    ...evidenceRoutes({ ...deps.stores, ...audit, registry: deps.registry, starter }),
    ...checkRoutes({ checks: deps.stores.checks, version: deps.version }),
    ...exceptionRoutes({ ...audit, checks: deps.stores.checks, exceptions: deps.stores.exceptions, starter, logger: deps.logger, maxDurationMs: deps.exceptionMaxDurationMs }),
    ...evidencePackageRoutes({ ...deps.stores, db: deps.db, blobs: deps.blobs, starter, logger: deps.logger }),
    ...webhookRoutes({ ...deps.stores, db: deps.db, allowPrivateNetworks: deps.allowPrivateNetworks, webhookConfig: deps.webhookConfig }),
    ...auditLogRoutes({ auditLog: deps.stores.auditLog }),
    ...integrationRoutes({
      ...audit, routes: () => routes, publicUrl: deps.publicUrl, version: deps.version, webhooks: deps.stores.webhooks, secrets: deps.stores.secrets,
      allowPrivateNetworks: deps.allowPrivateNetworks, httpsOnly: deps.webhookConfig.httpsOnly,
    }),
  );

  app.use(requestId);
  app.use(requestLog(deps.logger, { skip: (path) => path === '/healthz' || path.startsWith('/assets/') }));
  // The console's pages and assets: before keys and limits, so loading a page spends no budget.
  app.use(consoleAssets(deps.console.dir, deps.logger));
  // Liveness must answer even when everything else is saturated: before auth and limits.
  const health = routes.find((r) => r.path === '/healthz')!;
  app.get('/healthz', (req, res) => health.handler(req, res));

  const mcp = mcpEndpoint({ logger: deps.logger, version: deps.version, publicUrl: deps.publicUrl, allowedOrigins: deps.mcpAllowedOrigins });
  app.use('/mcp', mcp.guard);

  // A key that must be looked up is first counted against the client IP (refused there when spent): made-up keys cannot flood the database.
  const gate = unverifiedKeyGate(limiter);
  app.use(authenticator.identify(gate));
  // Without a key header, the console's session cookie (its CSRF check included).
  app.use(sessionAuth(deps.sessions, authenticator, gate, deps.publicUrl));
  app.use(actingWorkspace(deps.stores.workspaces));
  app.use(rateLimit(limiter));
  app.use(requireJsonContentType);
  app.use(express.json({
    limit: deps.jsonBodyLimitBytes, type: JSON_TYPES, strict: true,
    // Refused on its bytes, before parsing: no recursive code ever meets a hostile nesting.
    verify: (_req, _res, buffer) => {
      if (jsonDepthExceeds(buffer, deps.jsonMaxDepth)) {
        throw HubError.validation([{ pointer: '', message: `is nested deeper than ${deps.jsonMaxDepth} levels (HUB_JSON_MAX_DEPTH)` }], `The JSON body is nested deeper than ${deps.jsonMaxDepth} levels.`);
      }
    },
  }));

  // MCP over streamable HTTP: after keys and the rate limiter, so each message spends the key's budget.
  app.all('/mcp', mcp.handle);

  const idempotencyMiddleware = idempotency(deps.stores.idempotency, deps.logger);
  for (const route of routes) if (route.path !== '/healthz') mount(app, route, idempotencyMiddleware);
  // A known path with another method is a 405 that says which methods exist.
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method.toUpperCase()]);
  for (const [path, methods] of methodsByPath) {
    app.all(path, () => {
      throw new HubError(405, 'Method Not Allowed', `Use ${methods.join(', ')} on this path.`, { headers: { Allow: methods.join(', ') } });
    });
  }

  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return { app, routes };
}
