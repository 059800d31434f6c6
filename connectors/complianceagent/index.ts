import { ConnectorError } from '../errors.js';
import type { HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer } from '../pacer.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type SourceConnector } from '../types.js';
import { auditLogRecord, complianceagentDatasets, integrityRecord, type ComplianceAgentLogEntry, type VerifyData } from './records.js';

const SYSTEM = 'ComplianceAgent';
const DAY_MS = 86_400_000;
const DEFAULT_INITIAL_DAYS = 90;

interface ComplianceAgentConfig {
  base_url: string;
  page_size?: number;
  repository_id?: string;
  initial_days?: number;
  integrity_days?: number;
}

/** Where a walk of the audit log stands: the page to read next within a fixed period. */
type LogCursor = { page: number; from: string; to: string };

/**
 * The request helper for ComplianceAgent's Audit API (seed 004). The seed documents no
 * authentication: the API key is sent as `Authorization: Bearer <key>`, the common scheme for
 * such keys. Every answer is the seed's envelope `{"success": …, "data": …}`.
 */
class ComplianceAgentClient {
  /** The origin (and any prefix) under which `/api/v1/audit/…` lives. */
  readonly base: string;
  private readonly pacer: RateLimitPacer;

  constructor(private readonly ctx: ConnectorContext, readonly config: ComplianceAgentConfig) {
    // The seed's paths carry /api/v1 themselves; accept a base URL given with it too.
    this.base = config.base_url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
  }

  request(method: 'GET' | 'POST', path: string, what: string, body?: object): Promise<HttpResponse> {
    const apiKey = this.ctx.secrets.api_key;
    if (!apiKey) throw new ConnectorError('bad_config', 'ComplianceAgent: the connection has no api_key secret.');
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: () => this.ctx.http.request(`${this.base}${path}`, {
        method, system: SYSTEM, what, signal: this.ctx.signal,
        headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      }),
      message: complianceAgentMessage,
    });
  }
}

/** The API's own words for an error: `error.message` in its envelope, or a bare `error`/`message`. */
function complianceAgentMessage(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: string | { message?: string }; message?: string };
    return typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
  } catch {
    return undefined;
  }
}

/** `data` of the seed's envelope; a `"success": false` answered with a 2xx is an error all the same. */
function envelopeData<T>(response: HttpResponse, what: string): { data: T; pagination?: { page?: number; limit?: number; total?: number } } {
  const body = response.json<{ success?: boolean; data?: T; pagination?: { page?: number; limit?: number; total?: number } }>();
  if (body.success === false || body.data === undefined) {
    throw new ConnectorError('bad_response', `ComplianceAgent answered without data while ${what}.${complianceAgentMessage(response) ? ` It said: ${complianceAgentMessage(response)}` : ''}`, { system: SYSTEM, status: response.status });
  }
  return { data: body.data, pagination: body.pagination };
}

function firstCursor(config: ComplianceAgentConfig, since: string | null, now: Date): LogCursor {
  // Incremental: from the start of the last successful collection up to the start of this one.
  const from = since ?? new Date(now.getTime() - (config.initial_days ?? DEFAULT_INITIAL_DAYS) * DAY_MS).toISOString();
  return { page: 1, from, to: now.toISOString() };
}

export const complianceagentConnector: SourceConnector<ComplianceAgentClient> = {
  type: 'complianceagent',
  name: 'ComplianceAgent',
  description: 'The hash-chained audit log of ComplianceAgent (scans, issues, fixes, access changes) and the result of its integrity verification.',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'The API origin, where /api/v1/audit/… lives.' },
      page_size: { type: 'integer', minimum: 1, maximum: 100, default: 100, description: 'Entries per page (the limit parameter).' },
      repository_id: { type: 'string', minLength: 1, description: 'Only this repository’s entries, and verify only those.' },
      initial_days: { type: 'integer', minimum: 1, maximum: 3650, default: DEFAULT_INITIAL_DAYS, description: 'How far back the first collection of audit logs reaches; later ones continue from the previous one.' },
      integrity_days: { type: 'integer', minimum: 1, maximum: 3650, description: 'Verify only the last N days of the chain. Default: the whole log.' },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['api_key'], properties: { api_key: { type: 'string', minLength: 1 } } },
  urlFields: ['base_url'],
  open: (ctx) => new ComplianceAgentClient(connectionContext(ctx), ctx.config as unknown as ComplianceAgentConfig),
  async test(client) {
    envelopeData(await client.request('GET', '/api/v1/audit/logs?page=1&limit=1', 'reading one audit log entry'), 'reading one audit log entry');
  },
  datasets: {
    'complianceagent.audit_logs': {
      ...complianceagentDatasets['complianceagent.audit_logs'],
      async *pages(client, cursor, { since, now }) {
        const limit = client.config.page_size ?? 100;
        // The period is fixed in the cursor, so a resumed walk reads the same pages.
        const position = (cursor as LogCursor | null) ?? firstCursor(client.config, since, now);
        // The seed's parameters: "from | datetime | Start date", "to | datetime | End date",
        // "page | integer | Page number", "limit | integer | Results per page", "repository_id".
        for (let page = position.page; ; page++) {
          const query = new URLSearchParams({ from: position.from, to: position.to, page: String(page), limit: String(limit) });
          if (client.config.repository_id) query.set('repository_id', client.config.repository_id);
          const what = `listing audit logs (page ${page})`;
          const { data, pagination } = envelopeData<ComplianceAgentLogEntry[]>(await client.request('GET', `/api/v1/audit/logs?${query}`, what), what);
          if (!Array.isArray(data)) throw new ConnectorError('bad_response', `ComplianceAgent answered a list that is not an array while ${what}.`, { system: SYSTEM });
          // The server may cap `limit`; its pagination says what it used.
          const served = pagination?.limit ?? limit;
          const total = pagination?.total;
          const done = data.length === 0 || (total !== undefined ? page * served >= total : data.length < served);
          const next: LogCursor | null = done ? null : { ...position, page: page + 1 };
          yield { records: data.map(auditLogRecord), next };
          if (done) return;
        }
      },
    },
    'complianceagent.integrity': {
      ...complianceagentDatasets['complianceagent.integrity'],
      async *pages(client, _cursor, { now }) {
        const to = now.toISOString();
        const from = client.config.integrity_days ? new Date(now.getTime() - client.config.integrity_days * DAY_MS).toISOString() : null;
        const repositoryId = client.config.repository_id ?? null;
        // The seed's request body: {"from", "to", "repository_id"}.
        const body = { ...(from ? { from } : {}), to, ...(repositoryId ? { repository_id: repositoryId } : {}) };
        const what = 'verifying the audit log chain';
        const { data } = envelopeData<VerifyData>(await client.request('POST', '/api/v1/audit/verify', what, body), what);
        yield { records: [integrityRecord(data, { from, to, repositoryId })], next: null };
      },
    },
  },
};
