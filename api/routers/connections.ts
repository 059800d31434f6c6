import type { RouteSpec, JsonSchema } from '../route.js';
import { HubError, type FieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { assertOutboundUrl } from '../../lib/net-guard.js';
import { ConnectionStore, type Connection } from '../../store/connections.js';
import type { Queryable } from '../../store/db.js';
import type { SecretStore } from '../../store/secrets.js';
import type { ConnectorRegistry, AnySourceConnector } from '../../connectors/registry.js';
import type { OutboundHttp } from '../../connectors/http-client.js';
import { ConnectorError, type FailureKind } from '../../connectors/errors.js';
import { openSession } from '../../connectors/session.js';
import { changedUrlFields, urlBinding } from '../../lib/url-binding.js';
import { JobStore } from '../../store/jobs.js';
import type { Logger } from '../../lib/logger.js';
import { audited, secretNames, type AuditDeps } from '../audit.js';
import { principalOf } from '../auth.js';
import { bodyLink, exact, linksTo, listOf, name, outboundUrl, pageQuery, pageRequest, timestamp } from '../schemas.js';
import { compileFieldValidator } from '../validation.js';

export interface ConnectionDeps extends AuditDeps {
  connections: ConnectionStore;
  destinations: ConnectionStore;
  secrets: SecretStore;
  registry: ConnectorRegistry;
  http: OutboundHttp;
  logger: Logger;
  allowPrivateNetworks: boolean;
}

/** What the routes need to know of a connector, source or destination alike. */
type Configurable = Pick<AnySourceConnector, 'type' | 'name' | 'description' | 'configSchema' | 'secretsSchema' | 'urlFields' | 'open' | 'test'>;

/** Sources (`/connections`) and destinations (`/destinations`) share their whole API shape. */
interface ResourceKind {
  path: string;
  noun: string;
  tag: string;
  ownerType: 'connection' | 'destination';
  idPrefix: string;
  operation: string;
  table: 'connections' | 'destinations';
  store: ConnectionStore;
  lookup: (type: string) => Configurable | undefined;
  all: () => Configurable[];
}

const connectionView: JsonSchema = exact({
  id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, config: { type: 'object', description: 'As set, checked against the type’s config_schema.' },
  secret_fields: { type: 'array', items: { type: 'string' }, description: 'Names of the secrets set; values are never returned.' },
  created_at: timestamp, updated_at: timestamp,
});

const FAILURE_KINDS: FailureKind[] = ['auth', 'permission', 'not_found', 'bad_config', 'rate_limited', 'unavailable', 'bad_response'];
const testResult: JsonSchema = {
  type: 'object',
  required: ['ok', 'latency_ms'],
  properties: {
    ok: { type: 'boolean' },
    latency_ms: { type: 'integer', minimum: 0 },
    error: exact({ kind: { enum: FAILURE_KINDS }, message: { type: 'string' }, status: { type: ['integer', 'null'], description: 'The HTTP status the system answered, if it answered.' } }),
  },
  if: { properties: { ok: { const: false } } },
  then: { required: ['error'] },
  else: { not: { required: ['error'] } },
};

/** A connector's config schema with its URL fields held to what outbound calls may use. */
function configSchemaOf(connector: Configurable): JsonSchema {
  const properties = { ...(connector.configSchema.properties as Record<string, JsonSchema> | undefined) };
  for (const field of connector.urlFields) {
    const property = properties[field];
    if (!property) continue;
    properties[field] = {
      ...property, ...outboundUrl(),
      description: `${typeof property.description === 'string' ? `${property.description} ` : ''}http(s), without credentials; refused when it names a loopback, private or link-local address unless the hub allows private networks (HUB_ALLOW_PRIVATE_NETWORKS).`,
    };
  }
  return { ...connector.configSchema, properties };
}

/**
 * A create's body: one branch per connector type (`type` tells which), each with that type's
 * config and secrets schemas, as GET /api/v1/connectors (or /destination-types) lists them.
 * Secrets are required when the type requires some.
 */
function createBody(kind: ResourceKind): JsonSchema {
  return {
    type: 'object',
    required: ['type'],
    discriminator: { propertyName: 'type' },
    oneOf: kind.all().map((connector) => {
      const secretsRequired = ((connector.secretsSchema.required as unknown[] | undefined) ?? []).length > 0;
      return {
        type: 'object', title: connector.name, additionalProperties: false,
        required: ['name', 'type', 'config', ...(secretsRequired ? ['secrets'] : [])],
        properties: {
          name,
          type: { const: connector.type, description: connector.description },
          config: configSchemaOf(connector),
          secrets: { ...connector.secretsSchema, maxProperties: 20, description: 'Sealed at rest and never returned (GET shows their names in secret_fields).' },
        },
      };
    }),
  };
}

/** Validates a connector's config and secrets against its own schemas, pointers under /config and /secrets. */
class ConnectorValidators {
  private readonly cache = new Map<string, { config: (v: unknown) => void; secrets: (v: unknown) => void; someSecrets: (v: unknown) => void }>();

  constructor(private readonly kind: ResourceKind, private readonly allowPrivateNetworks: boolean) {}

  connector(type: string): Configurable {
    const connector = this.kind.lookup(type);
    if (!connector) {
      const known = this.kind.all().map((c) => c.type).join(', ');
      throw HubError.validation([{ pointer: '/type', message: `must be one of: ${known}` }], `Unknown connection type "${type}".`);
    }
    return connector;
  }

  /** `partialSecrets`: a PATCH sends only the secrets it changes, so required ones may be absent. */
  check(connector: Configurable, config: Record<string, unknown>, secrets: Record<string, unknown> | undefined, partialSecrets = false): void {
    let validators = this.cache.get(connector.type);
    if (!validators) {
      const { required: _required, ...anySubset } = connector.secretsSchema;
      validators = {
        config: compileFieldValidator(configSchemaOf(connector), '/config'),
        secrets: compileFieldValidator(connector.secretsSchema, '/secrets'),
        someSecrets: compileFieldValidator(anySubset, '/secrets'),
      };
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
    if (secrets) collect(() => (partialSecrets ? validators.someSecrets : validators.secrets)(secrets));
    for (const field of connector.urlFields) {
      const value = config[field];
      // A URL the schema already refused is reported once.
      if (typeof value === 'string' && !errors.some((e) => e.pointer === `/config/${field}`)) collect(() => assertOutboundUrl(value, { allowPrivateNetworks: this.allowPrivateNetworks, pointer: `/config/${field}` }));
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
  const sources: ResourceKind = {
    path: '/api/v1/connections', noun: 'connection', tag: 'connections', ownerType: 'connection', idPrefix: 'conn', operation: 'Connection', table: 'connections',
    store: deps.connections, lookup: (type) => deps.registry.source(type), all: () => deps.registry.listSources(),
  };
  const destinations: ResourceKind = {
    path: '/api/v1/destinations', noun: 'destination', tag: 'destinations', ownerType: 'destination', idPrefix: 'dest', operation: 'Destination', table: 'destinations',
    store: deps.destinations, lookup: (type) => deps.registry.destination(type), all: () => deps.registry.listDestinations(),
  };
  return [
    ...resourceRoutes(deps, sources),
    ...resourceRoutes(deps, destinations),
    {
      method: 'get', path: '/api/v1/connectors', operationId: 'listConnectors', tag: 'connections', auth: 'config:read',
      summary: 'The source connector types: config and secret schemas, and datasets with their record schemas.',
      responses: {
        200: {
          description: 'All source types.',
          schema: exact({
            data: {
              type: 'array',
              items: exact({
                type: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, config_schema: { type: 'object' }, secrets_schema: { type: 'object' },
                datasets: { type: 'array', items: exact({ name: { type: 'string' }, description: { type: 'string' }, record_schema: { type: 'object' } }) },
              }),
            },
          }),
        },
      },
      handler: (_req, res) => {
        res.json({
          data: deps.registry.listSources().map((c) => ({
            type: c.type, name: c.name, description: c.description, config_schema: c.configSchema, secrets_schema: c.secretsSchema,
            datasets: Object.entries(c.datasets).map(([datasetName, d]) => ({ name: datasetName, description: d.description, record_schema: d.record_schema })),
          })),
        });
      },
    },
    {
      method: 'get', path: '/api/v1/destination-types', operationId: 'listDestinationTypes', tag: 'destinations', auth: 'config:read',
      summary: 'The destination types: config, secret and job target schemas.',
      responses: {
        200: {
          description: 'All destination types.',
          schema: exact({
            data: {
              type: 'array',
              items: exact({
                type: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' },
                config_schema: { type: 'object' }, secrets_schema: { type: 'object' }, target_schema: { type: 'object' },
              }),
            },
          }),
        },
      },
      handler: (_req, res) => {
        res.json({
          data: deps.registry.listDestinations().map((c) => ({
            type: c.type, name: c.name, description: c.description, config_schema: c.configSchema, secrets_schema: c.secretsSchema, target_schema: c.targetSchema,
          })),
        });
      },
    },
  ];
}

function resourceRoutes(deps: ConnectionDeps, kind: ResourceKind): RouteSpec[] {
  const validators = new ConnectorValidators(kind, deps.allowPrivateNetworks);
  const { path, noun, tag, operation } = kind;
  const owner = (workspaceId: string, id: string) => ({ workspaceId, type: kind.ownerType, id });
  const storeIn = (tx: Queryable) => new ConnectionStore(tx, kind.table);
  const view = async (c: Connection) => ({
    id: c.id, name: c.name, type: c.type, config: c.config,
    secret_fields: await deps.secrets.names(owner(c.workspace_id, c.id)),
    created_at: c.created_at, updated_at: c.updated_at,
  });
  const mustGet = async (workspaceId: string, id: string) => {
    const connection = await kind.store.get(workspaceId, id);
    if (!connection) throw HubError.notFound(`No ${noun} with this id in this workspace.`);
    return connection;
  };

  return [
    {
      method: 'post', path: path, operationId: `create${operation}`, tag, auth: 'config:write', idempotent: true,
      summary: `Create a ${noun}. Secrets are sealed at rest and never returned.`,
      description: `\`type\` chooses the ${noun} type; \`config\` and \`secrets\` follow that type's config_schema and secrets_schema (${kind.ownerType === 'connection' ? 'GET /api/v1/connectors' : 'GET /api/v1/destination-types'}).`,
      body: createBody(kind),
      responses: {
        201: {
          description: 'Created.', schema: connectionView, headers: { Location: `The new ${noun}.` },
          links: {
            ...linksTo([`get${operation}`, `update${operation}`, `delete${operation}`, `test${operation}`, ...(kind.ownerType === 'connection' ? ['collectConnection'] : [])]),
            ...(kind.ownerType === 'connection'
              ? { createJobFromConnection: bodyLink('createJob', 'connection_id') }
              : { createJobToDestination: bodyLink('createJob', 'destination_id'), pushEvidenceToDestination: bodyLink('pushEvidence', 'destination_id') }),
          },
        },
      },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const body = req.body as { name: string; type: string; config: Record<string, unknown>; secrets?: Record<string, string> };
        const connector = validators.connector(body.type);
        validators.check(connector, body.config, body.secrets ?? {});
        const id = newId(kind.idPrefix);
        const created = await audited(deps, req, res,
          async (tx) => {
            const connection = await storeIn(tx).insert({ id, workspaceId, name: body.name, type: body.type, config: body.config });
            await deps.secrets.put(owner(workspaceId, id), body.secrets ?? {}, tx, urlBinding(connector.urlFields, body.config));
            return connection;
          },
          (c) => ({
            action: `${noun}.created`, resourceType: noun, resourceId: c.id,
            changes: { name: c.name, type: c.type, config: c.config, secrets: secretNames(body.secrets) },
          }));
        res.status(201).location(`${path}/${id}`).json(await view(created));
      },
    },
    {
      method: 'get', path: path, operationId: `list${operation}s`, tag, auth: 'config:read',
      summary: `List ${noun}s.`,
      query: { type: 'object', properties: { ...(pageQuery.properties as object), type: { type: 'string' } } },
      responses: { 200: { description: 'A page of connections.', schema: listOf(connectionView) } },
      handler: async (_req, res) => {
        const query = res.locals.query as { type?: string };
        const page = await kind.store.list(principalOf(res).workspaceId, pageRequest(res), query.type);
        res.json({ data: await Promise.all(page.data.map(view)), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get', path: `${path}/:id`, operationId: `get${operation}`, tag, auth: 'config:read',
      summary: `Get a ${noun} (secret names only).`,
      responses: { 200: { description: 'The connection.', schema: connectionView } },
      handler: async (req, res) => { res.json(await view(await mustGet(principalOf(res).workspaceId, String(req.params.id)))); },
    },
    {
      method: 'patch', path: `${path}/:id`, operationId: `update${operation}`, tag, auth: 'config:write',
      summary: 'Change the name, config (merge; null removes a field) or secrets (given ones replaced; null removes).',
      body: {
        type: 'object', additionalProperties: false, minProperties: 1,
        properties: { name, config: { type: 'object' }, secrets: { type: 'object', additionalProperties: { type: ['string', 'null'], maxLength: 20_000 } } },
      },
      responses: { 200: { description: 'Updated.', schema: connectionView } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const id = String(req.params.id);
        const body = req.body as { name?: string; config?: Record<string, unknown>; secrets?: Record<string, string | null> };
        const setSecrets = Object.fromEntries(Object.entries(body.secrets ?? {}).filter(([, v]) => v !== null)) as Record<string, string>;
        const removed = Object.entries(body.secrets ?? {}).filter(([, v]) => v === null).map(([k]) => k);
        const updated = await audited(deps, req, res,
          async (tx) => {
            // Read, check and write under the row's lock: two PATCHes never interleave.
            const existing = await storeIn(tx).getForUpdate(workspaceId, id);
            if (!existing) throw HubError.notFound(`No ${noun} with this id in this workspace.`);
            const connector = validators.connector(existing.type);
            const config = body.config ? mergePatch(existing.config, body.config) : existing.config;
            validators.check(connector, config, setSecrets, true);
            // Secrets stay with the URLs they were entered for: re-pointing needs every one again.
            const moved = changedUrlFields(connector.urlFields, existing.config, config);
            if (moved.length) {
              const stored = await deps.secrets.names(owner(workspaceId, id), tx);
              const missing = stored.filter((secret) => !Object.hasOwn(body.secrets ?? {}, secret));
              if (missing.length) {
                throw HubError.validation(
                  missing.map((secret) => ({ pointer: `/secrets/${secret}`, message: `enter this secret again: ${moved.join(', ')} changed, and stored secrets are never sent to another URL` })),
                  `Changing ${moved.join(', ')} needs the ${noun}'s secrets again (${missing.join(', ')}): they were entered for the previous URL.`,
                );
              }
            }
            const row = await storeIn(tx).update(workspaceId, id, { name: body.name, config: body.config ? config : undefined });
            if (!row) throw HubError.notFound(`No ${noun} with this id in this workspace.`);
            await deps.secrets.put(owner(workspaceId, id), setSecrets, tx, urlBinding(connector.urlFields, config));
            if (removed.length) await tx.query('DELETE FROM secrets WHERE workspace_id = $1 AND owner_type = $2 AND owner_id = $3 AND name = ANY($4)', [workspaceId, kind.ownerType, id, removed]);
            return row;
          },
          // The patch as sent (a config field set to null was removed), secrets by name only.
          () => ({ action: `${noun}.updated`, resourceType: noun, resourceId: id, changes: { name: body.name, config: body.config, secrets: secretNames(body.secrets) } }));
        res.json(await view(updated));
      },
    },
    {
      method: 'delete', path: `${path}/:id`, operationId: `delete${operation}`, tag, auth: 'config:write',
      summary: `Delete a ${noun} and its secrets; 409 while jobs use it.`,
      responses: { 204: { description: 'Deleted.' } },
      problems: { 409: `Jobs use the ${noun}: change or delete them first.` },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const existing = await mustGet(workspaceId, String(req.params.id));
        await audited(deps, req, res,
          async (tx) => {
            // Locked first, so no job can start using it between the check and the delete.
            if (!(await storeIn(tx).getForUpdate(workspaceId, existing.id))) throw HubError.notFound(`No ${noun} with this id in this workspace.`);
            const users = await new JobStore(tx).using(workspaceId, kind.ownerType === 'connection' ? 'connection_id' : 'destination_id', existing.id);
            if (users.length) throw HubError.conflict(`The ${noun} is used by ${users.length} job(s) (${users.slice(0, 5).join(', ')}): change or delete them first.`);
            await deps.secrets.remove(owner(workspaceId, existing.id), tx);
            if (!(await storeIn(tx).delete(workspaceId, existing.id))) throw HubError.notFound(`No ${noun} with this id in this workspace.`);
          },
          () => ({ action: `${noun}.deleted`, resourceType: noun, resourceId: existing.id, changes: { name: existing.name, type: existing.type } }));
        res.status(204).end();
      },
    },
    {
      method: 'post', path: `${path}/:id/test`, operationId: `test${operation}`, tag, auth: 'config:read',
      summary: 'Make one cheap authenticated call and say exactly what is wrong, if anything.',
      responses: { 200: { description: '`ok: true`, or `ok: false` with the reason (bad token, wrong URL, missing permission…).', schema: testResult } },
      handler: async (req, res) => {
        const { workspaceId } = principalOf(res);
        const connection = await mustGet(workspaceId, String(req.params.id));
        const connector = validators.connector(connection.type);
        const started = Date.now();
        // One deadline for the whole test (every request, token exchanges included) and a small
        // cap on every answer: a test answers a person, it never waits on a trickle or reads a flood.
        const timeoutMs = deps.http.connectionTestTimeoutMs;
        const seconds = Math.round(timeoutMs / 100) / 10;
        const controller = new AbortController();
        const deadline = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new Error('deadline')), { once: true }));
        deadline.catch(() => undefined);
        const timer = setTimeout(() => controller.abort(), timeoutMs);
        try {
          const session = await openSession(deps, connector, { owner: owner(workspaceId, connection.id), config: connection.config }, {
            http: deps.http.forConnectionTest(), signal: controller.signal,
            heartbeat: () => undefined,
            // A connection test answers a person: it does not wait out a long rate-limit window.
            sleep: (ms) => (ms > 5_000 ? Promise.reject(new ConnectorError('rate_limited', `${connector.name} is rate limiting this connection; try again in ${Math.ceil(ms / 1000)} s.`)) : new Promise((r) => setTimeout(r, ms))),
          });
          await Promise.race([connector.test(session), deadline]);
          res.json({ ok: true, latency_ms: Date.now() - started });
        } catch (err) {
          // Whatever went wrong is the answer to "does this connection work?", never a 500.
          if (!(err instanceof ConnectorError) && !controller.signal.aborted) deps.logger.warn({ err, [`${noun}_id`]: connection.id }, 'connection test failed unexpectedly');
          const error = controller.signal.aborted
            ? { kind: 'unavailable', message: `${connector.name} did not finish answering within ${seconds} s, the limit of a connection test: the system is slow, unreachable, or sends its answer a trickle at a time.`, status: null }
            : err instanceof ConnectorError
              ? { kind: err.kind, message: err.message, status: err.details.status ?? null }
              : { kind: 'bad_config', message: `${connector.name}: ${(err as Error).message}`, status: null };
          res.json({ ok: false, latency_ms: Date.now() - started, error });
        } finally {
          clearTimeout(timer);
        }
      },
    },
  ];
}
