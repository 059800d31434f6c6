import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { assertOutboundUrl } from '../../lib/net-guard.js';
import type { Db } from '../../store/db.js';
import type { Connection, ConnectionStore } from '../../store/connections.js';
import type { SecretStore } from '../../store/secrets.js';
import type { ConnectorRegistry, AnySourceConnector } from '../../connectors/registry.js';
import type { OutboundHttp } from '../../connectors/http-client.js';
import { ConnectorError } from '../../connectors/errors.js';
import type { Logger } from '../../lib/logger.js';
import { principalOf } from '../auth.js';
import { listOf, name, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { compileFieldValidator } from '../validation.js';

export interface ConnectionDeps {
  db: Db;
  connections: ConnectionStore;
  secrets: SecretStore;
  registry: ConnectorRegistry;
  http: OutboundHttp;
  logger: Logger;
  allowPrivateNetworks: boolean;
}

const connectionView: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, config: { type: 'object' },
    secret_fields: { type: 'array', items: { type: 'string' }, description: 'Names of the secrets set; values are never returned.' },
    created_at: timestamp, updated_at: timestamp,
  },
};

const testResult: JsonSchema = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    latency_ms: { type: 'integer' },
    error: { type: 'object', properties: { kind: { type: 'string' }, message: { type: 'string' }, status: { type: ['integer', 'null'] } } },
  },
};

/** Validates a connector's config and secrets against its own schemas, pointers under /config and /secrets. */
class ConnectorValidators {
  private readonly cache = new Map<string, { config: (v: unknown) => void; secrets: (v: unknown) => void }>();

  constructor(private readonly registry: ConnectorRegistry, private readonly allowPrivateNetworks: boolean) {}

  connector(type: string): AnySourceConnector {
    const connector = this.registry.source(type);
    if (!connector) {
      const known = this.registry.listSources().map((c) => c.type).join(', ');
      throw HubError.validation([{ pointer: '/type', message: `must be one of: ${known}` }], `Unknown connection type "${type}".`);
    }
    return connector;
  }

  check(connector: AnySourceConnector, config: Record<string, unknown>, secrets: Record<string, unknown> | undefined): void {
    let validators = this.cache.get(connector.type);
    if (!validators) {
      validators = { config: compileFieldValidator(connector.configSchema, '/config'), secrets: compileFieldValidator(connector.secretsSchema, '/secrets') };
      this.cache.set(connector.type, validators);
    }
    // Every fault at once: config, secrets and URLs are checked before any is reported.
    const errors: FieldError[] = [];
    const collect = (check: () => void) => {
      try {
        check();
      } catch (err) {
        if (!(err instanceof HubError) || !err.extra.errors) throw err;
        errors.push(...err.extra.errors);
      }
    };
    collect(() => validators.config(config));
    if (secrets) collect(() => validators.secrets(secrets));
    for (const field of connector.urlFields) {
      const value = config[field];
      if (typeof value === 'string') collect(() => assertOutboundUrl(value, { allowPrivateNetworks: this.allowPrivateNetworks, pointer: `/config/${field}` }));
    }
    if (errors.length) throw HubError.validation(errors, `The ${connector.name} connection is not valid.`);
  }
}

/** RFC 7396-style merge: `null` removes a key. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

export function connectionRoutes(deps: ConnectionDeps): RouteSpec[] {
  const validators = new ConnectorValidators(deps.registry, deps.allowPrivateNetworks);
  const owner = (workspaceId: string, id: string) => ({ workspaceId, type: 'connection', id });
  const view = async (c: Connection) => ({
    id: c.id, name: c.name, type: c.type, config: c.config,
    secret_fields: await deps.secrets.names(owner(c.workspace_id, c.id)),
    created_at: c.created_at, updated_at: c.updated_at,
  });
  const mustGet = async (workspaceId: string, id: string) => {
    const connection = await deps.connections.get(workspaceId, id);
    if (!connection) throw HubError.notFound('No connection with this id in this workspace.');
    return connection;
  };

  return [
    {
      method: 'post', path: '/api/v1/connections', operationId: 'createConnection', tag: 'connections', auth: 'config:write', idempotent: true,
      summary: 'Connect a source system. Secrets are sealed at rest and never returned.',
      body: {
        type: 'object', additionalProperties: false, required: ['name', 'type', 'config'],
        properties: { name, type: { type: 'string', maxLength: 64 }, config: { type: 'object' }, secrets: { type: 'object', maxProperties: 20, description: 'Checked against the connector type’s secrets_schema.' } },
      },
      responses: { 201: { description: 'Created.', schema: connectionView } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const body = req.body as { name: string; type: string; config: Record<string, unknown>; secrets?: Record<string, string> };
        const connector = validators.connector(body.type);
        validators.check(connector, body.config, body.secrets ?? {});
        const id = newId('conn');
        const created = await deps.db.transaction(async (tx) => {
          const connection = await deps.connections.insert({ id, workspaceId, name: body.name, type: body.type, config: body.config }, tx);
          await deps.secrets.put(owner(workspaceId, id), body.secrets ?? {}, tx);
          return connection;
        });
        res.status(201).location(`/api/v1/connections/${id}`).json(await view(created));
      },
    },
    {
      method: 'get', path: '/api/v1/connections', operationId: 'listConnections', tag: 'connections', auth: 'config:read',
      summary: 'List connections.',
      query: { type: 'object', properties: { ...(pageQuery.properties as object), type: { type: 'string' } } },
      responses: { 200: { description: 'A page of connections.', schema: listOf(connectionView) } },
      handler: async (_req, res) => {
        const query = res.locals.query as { type?: string };
        const page = await deps.connections.list(principalOf(res).workspaceId, pageRequest(res), query.type);
        res.json({ data: await Promise.all(page.data.map(view)), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: '/api/v1/connections/:id', operationId: 'getConnection', tag: 'connections', auth: 'config:read',
      summary: 'Get a connection (secret names only).',
      responses: { 200: { description: 'The connection.', schema: connectionView } },
      handler: async (req, res) => { res.json(await view(await mustGet(principalOf(res).workspaceId, String(req.params.id)))); },
    },
    {
      method: 'patch', path: '/api/v1/connections/:id', operationId: 'updateConnection', tag: 'connections', auth: 'config:write',
      summary: 'Change the name, config (merge; null removes a field) or secrets (given ones replaced; null removes).',
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: { name, config: { type: 'object' }, secrets: { type: 'object', additionalProperties: { type: ['string', 'null'], maxLength: 20_000 } } },
      },
      responses: { 200: { description: 'Updated.', schema: connectionView } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const existing = await mustGet(workspaceId, String(req.params.id));
        const body = req.body as { name?: string; config?: Record<string, unknown>; secrets?: Record<string, string | null> };
        const connector = validators.connector(existing.type);
        const config = body.config ? mergePatch(existing.config, body.config) : existing.config;
        const setSecrets = Object.fromEntries(Object.entries(body.secrets ?? {}).filter(([, v]) => v !== null)) as Record<string, string>;
        validators.check(connector, config, setSecrets);
        const updated = await deps.db.transaction(async (tx) => {
          const row = await deps.connections.update(workspaceId, existing.id, { name: body.name, config: body.config ? config : undefined }, tx);
          await deps.secrets.put(owner(workspaceId, existing.id), setSecrets, tx);
          const removed = Object.entries(body.secrets ?? {}).filter(([, v]) => v === null).map(([k]) => k);
          if (removed.length) await tx.query('DELETE FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3 AND name = ANY($4)', [workspaceId, 'connection', existing.id, removed]);
          return row!;
        });
        res.json(await view(updated));
      },
    },
    {
      method: 'delete', path: '/api/v1/connections/:id', operationId: 'deleteConnection', tag: 'connections', auth: 'config:write',
      summary: 'Delete a connection and its secrets.',
      responses: { 204: { description: 'Deleted.' } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const existing = await mustGet(workspaceId, String(req.params.id));
        await deps.db.transaction(async (tx) => {
          await deps.secrets.remove(owner(workspaceId, existing.id), tx);
          await deps.connections.delete(workspaceId, existing.id, tx);
        });
        res.status(204).end();
      },
    },
    {
      method: 'post', path: '/api/v1/connections/:id/test', operationId: 'testConnection', tag: 'connections', auth: 'config:read',
      summary: 'Make one cheap authenticated call and say exactly what is wrong, if anything.',
      responses: { 200: { description: '`ok: true`, or `ok: false` with the reason (bad token, wrong URL, missing permission…).', schema: testResult } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const connection = await mustGet(workspaceId, String(req.params.id));
        const connector = validators.connector(connection.type);
        const started = Date.now();
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 20_000);
        try {
          const session = connector.open({
            config: connection.config,
            secrets: await deps.secrets.get(owner(workspaceId, connection.id)),
            http: deps.http, log: deps.logger.child({ connection_id: connection.id }), signal: controller.signal,
            heartbeat: () => undefined,
            // A connection test answers a person: it does not wait out a long rate-limit window.
            sleep: (ms) => (ms > 5_000 ? Promise.reject(new ConnectorError('rate_limited', `${connector.name} is rate limiting this connection; try again in ${Math.ceil(ms / 1000)} s.`)) : new Promise((r) => setTimeout(r, ms))),
          });
          await connector.test(session);
          res.json({ ok: true, latency_ms: Date.now() - started });
        } catch (err) {
          if (!(err instanceof ConnectorError) && !controller.signal.aborted) throw err;
          const error = err instanceof ConnectorError
            ? { kind: err.kind, message: err.message, status: err.details.status ?? null }
            : { kind: 'unavailable', message: `${connector.name} did not answer within 20 s.`, status: null };
          res.json({ ok: false, latency_ms: Date.now() - started, error });
        } finally {
          clearTimeout(timer);
        }
      },
    },
    {
      method: 'get', path: '/api/v1/connectors', operationId: 'listConnectors', tag: 'connections', auth: 'config:read',
      summary: 'The connector types: config and secret schemas, and datasets with their record schemas.',
      responses: { 200: { description: 'All connector types.', schema: { type: 'object', properties: { data: { type: 'array' } } } } },
      handler: (_req, res) => {
        res.json({
          data: deps.registry.listSources().map((c) => ({
            type: c.type, name: c.name, description: c.description, config_schema: c.configSchema, secrets_schema: c.secretsSchema,
            datasets: Object.entries(c.datasets).map(([datasetName, d]) => ({ name: datasetName, description: d.description, record_schema: d.record_schema })),
          })),
        });
      },
    },
  ];
}
