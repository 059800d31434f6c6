import { JSONPath } from 'jsonpath-plus';
import { ConnectorError } from '../errors.js';
import { linkedUrl, type HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { linkUrl } from '../link-header.js';
import { RateLimitPacer } from '../pacer.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type DatasetDefinition, type JsonValue, type SourceConnector } from '../types.js';

const SYSTEM = 'HTTP source';

type Pagination =
  | { type: 'none' }
  | { type: 'link_header' }
  | { type: 'cursor'; cursor_path: string; cursor_param: string }
  | { type: 'page'; page_param: string; page_size_param?: string; page_size?: number; start_page?: number };

interface HttpDatasetConfig {
  name: string;
  description?: string;
  path: string;
  records_path?: string;
  query?: Record<string, string>;
  pagination?: Pagination;
}

interface HttpConfig {
  base_url: string;
  auth: { type: 'none' | 'bearer' | 'basic' | 'api_key_header'; username?: string; header_name?: string };
  /** Left by migration 9 where config held custom headers: their names, each to be set again as a secret. */
  legacy_header_names?: string[];
  datasets: HttpDatasetConfig[];
}

/**
 * Custom headers (which often carry tokens) are secrets named `header:<Header-Name>`: sealed
 * at rest, never returned by the API, audited by name only. Config no longer takes them.
 */
const HEADER_SECRET = /^header:(.+)$/;
const HEADER_SECRET_PATTERN = "^header:[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";

/**
 * Reads a value with an admin-written JSONPath. Script evaluation is off entirely: these
 * paths locate data (`$.data.items`, `$.meta.next`), they never need filters.
 */
function readPath(json: unknown, path: string): unknown[] {
  return JSONPath({ path, json: json as object, eval: false, wrap: true }) as unknown[];
}

class GenericHttpClient {
  private readonly base: string;
  private readonly pacer: RateLimitPacer;

  constructor(private readonly ctx: ConnectorContext, readonly config: HttpConfig) {
    this.base = config.base_url.replace(/\/+$/, '');
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
  }

  /** The `header:<Name>` secrets as headers. */
  private customHeaders(): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.ctx.secrets)) {
      const header = HEADER_SECRET.exec(name)?.[1];
      if (header) headers[header] = value;
    }
    // A connection whose config headers were removed by migration 9 says so until each is a secret again.
    const set = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
    const missing = (this.config.legacy_header_names ?? []).filter((h) => !set.has(h.toLowerCase()));
    if (missing.length) {
      throw new ConnectorError('bad_config', `${SYSTEM}: custom headers are secrets now, and this connection's ${missing.join(', ')} ${missing.length === 1 ? 'was' : 'were'} removed from its config: set ${missing.map((h) => `header:${h}`).join(', ')} in its secrets (PATCH), then remove config.legacy_header_names.`);
    }
    return headers;
  }

  private authHeaders(): Record<string, string> {
    const { auth } = this.config;
    const secret = (name: string) => {
      const value = this.ctx.secrets[name];
      if (!value) throw new ConnectorError('bad_config', `${SYSTEM}: auth ${auth.type} needs the ${name} secret.`);
      return value;
    };
    switch (auth.type) {
      case 'bearer': return { authorization: `Bearer ${secret('token')}` };
      case 'basic': return { authorization: `Basic ${Buffer.from(`${auth.username ?? ''}:${secret('password')}`).toString('base64')}` };
      case 'api_key_header': return { [auth.header_name ?? 'x-api-key']: secret('api_key') };
      case 'none': return {};
    }
  }

  /** The URL of a path or link, refused when it leaves the configured host. */
  url(pathOrUrl: string, query: Record<string, string> = {}): string {
    const url = linkedUrl(SYSTEM, pathOrUrl.startsWith('http') ? pathOrUrl : this.base + (pathOrUrl.startsWith('/') ? '' : '/') + pathOrUrl, 'following a link');
    if (url.origin !== new URL(this.base).origin) throw new ConnectorError('bad_response', `${SYSTEM}: refused to follow a link to another host (${url.host}).`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return url.toString();
  }

  get(url: string, what: string): Promise<HttpResponse> {
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: () => this.ctx.http.request(url, { system: SYSTEM, what, signal: this.ctx.signal, headers: { accept: 'application/json', ...this.customHeaders(), ...this.authHeaders() } }),
    });
  }
}

/** A dataset declared in the connection's config: path, where the records are, how pages go on. */
function declaredDataset(spec: HttpDatasetConfig): DatasetDefinition<GenericHttpClient> {
  const pagination = spec.pagination ?? { type: 'none' };
  return {
    description: spec.description ?? `Records from ${spec.path}`,
    record_schema: { type: 'object', description: 'As the API returns them.' },
    async *pages(client, cursor) {
      const what = `reading ${spec.path}`;
      let next: JsonValue | null = cursor;
      for (;;) {
        let url: string;
        if (pagination.type === 'page') {
          const page = (next as number | null) ?? pagination.start_page ?? 1;
          url = client.url(spec.path, { ...spec.query, [pagination.page_param]: String(page), ...(pagination.page_size_param ? { [pagination.page_size_param]: String(pagination.page_size ?? 100) } : {}) });
        } else if (pagination.type === 'cursor') {
          url = client.url(spec.path, { ...spec.query, ...(next !== null ? { [pagination.cursor_param]: String(next) } : {}) });
        } else {
          url = next !== null ? client.url(String(next)) : client.url(spec.path, spec.query);
        }
        const response = await client.get(url, what);
        const body = response.json<unknown>();
        const found = readPath(body, spec.records_path ?? '$');
        const records = (found.length === 1 && Array.isArray(found[0]) ? found[0] : found) as JsonValue[];
        let following: JsonValue | null = null;
        if (pagination.type === 'link_header') following = linkUrl(response.headers.link, 'next');
        if (pagination.type === 'cursor') {
          const value = readPath(body, pagination.cursor_path)[0];
          following = value === undefined || value === null || value === '' ? null : (value as JsonValue);
        }
        if (pagination.type === 'page') following = records.length > 0 ? ((next as number | null) ?? pagination.start_page ?? 1) + 1 : null;
        yield { records, next: following };
        if (following === null) return;
        next = following;
      }
    },
  };
}

const jsonPathString = { type: 'string', minLength: 1, maxLength: 500, pattern: '^\\$', description: 'A JSONPath (no filters), e.g. $.data.items' };

export const httpConnector: SourceConnector<GenericHttpClient> = {
  type: 'http',
  name: 'Generic JSON API',
  description: 'Any JSON API, described declaratively: base URL, auth (bearer, basic, API-key header), custom headers (as secrets) and datasets with their pagination (Link header, next cursor, page number).',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url', 'auth', 'datasets'],
    properties: {
      base_url: { type: 'string', format: 'uri' },
      ...maxResponseMbProperty,
      auth: {
        type: 'object', additionalProperties: false, required: ['type'],
        properties: {
          type: { enum: ['none', 'bearer', 'basic', 'api_key_header'], description: 'bearer uses the `token` secret, basic `username` + the `password` secret, api_key_header the `api_key` secret.' },
          username: { type: 'string' },
          header_name: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
        },
      },
      // Refused, and the 400 says where they go now: an enum's values are the one text a schema error repeats.
      headers: {
        description: 'Not accepted: custom headers often carry tokens, so they are secrets. Send each one in `secrets` as `header:<Header-Name>`.',
        enum: ['(not accepted: send each custom header in secrets as header:<Header-Name>)'],
      },
      legacy_header_names: {
        type: 'array', items: { type: 'string' }, maxItems: 20,
        description: 'Set by migration 9 on connections that had custom headers in config: their values were removed. Set each as the secret header:<Header-Name>, then remove this field (null).',
      },
      datasets: {
        type: 'array', minItems: 1, maxItems: 50,
        items: {
          type: 'object', additionalProperties: false, required: ['name', 'path'],
          properties: {
            name: { type: 'string', pattern: '^[a-z0-9_]{1,64}$', description: 'Collected as dataset `http.<name>`.' },
            description: { type: 'string', maxLength: 500 },
            path: { type: 'string', minLength: 1, maxLength: 1000 },
            records_path: jsonPathString,
            query: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 20 },
            pagination: {
              oneOf: [
                { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'none' } } },
                { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'link_header' } } },
                { type: 'object', additionalProperties: false, required: ['type', 'cursor_path', 'cursor_param'], properties: { type: { const: 'cursor' }, cursor_path: jsonPathString, cursor_param: { type: 'string', minLength: 1 } } },
                {
                  type: 'object', additionalProperties: false, required: ['type', 'page_param'],
                  properties: { type: { const: 'page' }, page_param: { type: 'string', minLength: 1 }, page_size_param: { type: 'string' }, page_size: { type: 'integer', minimum: 1, maximum: 10_000 }, start_page: { type: 'integer', minimum: 0 } },
                },
              ],
            },
          },
        },
      },
    },
  },
  secretsSchema: {
    type: 'object', additionalProperties: false,
    properties: { token: { type: 'string' }, password: { type: 'string' }, api_key: { type: 'string' } },
    patternProperties: { [HEADER_SECRET_PATTERN]: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^[^\\r\\n\\u0000]*$', description: 'A custom header sent with every request, e.g. `header:X-Tenant-Token`.' } },
  },
  urlFields: ['base_url'],
  open: (ctx) => new GenericHttpClient(connectionContext(ctx), ctx.config as unknown as HttpConfig),
  async test(client) {
    const first = client.config.datasets[0]!;
    await client.get(client.url(first.path, first.query), `reading ${first.path}`);
  },
  datasets: {},
  configuredDatasets: (config) =>
    Object.fromEntries(((config as unknown as HttpConfig).datasets ?? []).map((spec) => [`http.${spec.name}`, declaredDataset(spec)])),
};
