import { ConnectorError, errorForStatus } from '../errors.js';
import type { HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer } from '../pacer.js';
import { projectToSchema } from '../project.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type SourceConnector } from '../types.js';
import { auditcomplyDatasets } from './records.js';

const SYSTEM = 'AuditComply';
/** Refresh a token this long before it expires. */
const REFRESH_MARGIN_S = 60;

interface AuditComplyConfig {
  base_url: string;
  username: string;
  page_size?: number;
}

function jwtExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: number };
    return typeof payload.exp === 'number' ? payload.exp : null;
  } catch {
    return null;
  }
}

/**
 * The request helper for AuditComply (seed 002): "Token-based authentication with required
 * prefix "JWT"" — a token from POST /api-token-auth/ (username, password), sent as
 * `Authorization: JWT <token>`, renewed through POST /api-token-refresh/ before it expires
 * ("returns a refreshed token (with new expiration) based on existing token"), and obtained
 * again with the password once the refresh window has passed.
 */
class AuditComplyClient {
  readonly base: string;
  private token: string | null = null;
  private readonly pacer: RateLimitPacer;

  constructor(private readonly ctx: ConnectorContext, readonly config: AuditComplyConfig) {
    this.base = config.base_url.replace(/\/+$/, '');
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
  }

  private async post(path: string, body: object, what: string): Promise<HttpResponse> {
    return this.ctx.http.request(`${this.base}${path}`, {
      method: 'POST', system: SYSTEM, what, signal: this.ctx.signal,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }

  private async obtain(): Promise<string> {
    const password = this.ctx.secrets.password;
    if (!password) throw new ConnectorError('bad_config', 'AuditComply: the connection has no password secret.');
    const response = await this.post('/api-token-auth/', { username: this.config.username, password }, 'signing in');
    // DRF answers bad credentials with 400 "Unable to log in with provided credentials."
    if (response.status !== 200) throw errorForStatus(SYSTEM, response.status === 400 ? 401 : response.status, 'signing in', drfMessage(response));
    return response.json<{ token: string }>().token;
  }

  private async authorization(): Promise<string> {
    const exp = this.token ? jwtExpiry(this.token) : null;
    if (this.token && exp !== null && exp - REFRESH_MARGIN_S <= Date.now() / 1000) {
      const refreshed = await this.post('/api-token-refresh/', { token: this.token }, 'refreshing the token');
      this.token = refreshed.status === 200 ? refreshed.json<{ token: string }>().token : null;
    }
    this.token ??= await this.obtain();
    return `JWT ${this.token}`;
  }

  get(path: string, what: string): Promise<HttpResponse> {
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: async () => this.ctx.http.request(`${this.base}${path}`, {
        system: SYSTEM, what, signal: this.ctx.signal,
        headers: { authorization: await this.authorization(), accept: 'application/json' },
      }),
      renewCredentials: () => { this.token = null; }, // "Signature has expired." and the like: sign in again once
      message: drfMessage,
    });
  }
}

function drfMessage(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { detail?: string; non_field_errors?: string[] };
    return body.detail ?? body.non_field_errors?.join(' ');
  } catch {
    return undefined;
  }
}

/** One dataset per list endpoint, walked by `page`/`page_size` through DRF's `count`/`next`/`results`. */
function listDataset(name: keyof typeof auditcomplyDatasets, path: string): SourceConnector<AuditComplyClient>['datasets'][string] {
  const definition = auditcomplyDatasets[name];
  return {
    ...definition,
    async *pages(client, cursor) {
      const size = client.config.page_size ?? 100;
      for (let page = (cursor as number | null) ?? 1; ; page++) {
        const response = await client.get(`${path}?page=${page}&page_size=${size}`, `listing ${path.replaceAll('/', '')} (page ${page})`);
        const body = response.json<{ count: number; next: string | null; results: Record<string, unknown>[] }>();
        const done = !body.next || body.results.length === 0;
        yield { records: body.results.map((item) => projectToSchema(item, definition.record_schema)), next: done ? null : page + 1 };
        if (done) return;
      }
    },
  };
}

export const auditcomplyConnector: SourceConnector<AuditComplyClient> = {
  type: 'auditcomply',
  name: 'AuditComply',
  description: 'Audits, nonconformances and tasks from AuditComply (JWT API user).',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url', 'username'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'The API base URL (where /api-token-auth/ lives).' },
      username: { type: 'string', minLength: 1, description: 'A user enabled for API access by AuditComply support.' },
      page_size: { type: 'integer', minimum: 1, maximum: 100, default: 100 },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['password'], properties: { password: { type: 'string', minLength: 1 } } },
  urlFields: ['base_url'],
  open: (ctx) => new AuditComplyClient(connectionContext(ctx), ctx.config as unknown as AuditComplyConfig),
  async test(client) {
    await client.get('/audits/?page_size=1', 'reading one audit');
  },
  datasets: {
    'auditcomply.audits': listDataset('auditcomply.audits', '/audits/'),
    'auditcomply.nonconformances': listDataset('auditcomply.nonconformances', '/nonconformances/'),
    'auditcomply.tasks': listDataset('auditcomply.tasks', '/tasks/'),
  },
};
