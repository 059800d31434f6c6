import { mapConcurrent } from '../../lib/map-concurrent.js';
import { connectionContext, maxResponseMbProperty, type JsonValue, type SourceConnector } from '../types.js';
import { OktaClient, DEFAULT_SCOPES, type OktaConfig } from './client.js';
import { logEventRecord, passwordPolicyRecord, userRecord, type OktaFactor, type OktaRole } from './normalise.js';
import { oktaDatasets } from './records.js';

const PAGE_SIZE = 200; // Okta's maximum for /api/v1/users
const LOG_PAGE_SIZE = 1000;
const DEFAULT_LOG_DAYS = 7;

/** okta.users walks two lists: Okta leaves DEPROVISIONED users out unless asked for them. */
interface UsersCursor {
  phase: 'listed' | 'deprovisioned';
  url: string;
}

const usersUrl = (filter?: string) => `/api/v1/users?limit=${PAGE_SIZE}${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;

export const oktaConnector: SourceConnector<OktaClient> = {
  type: 'okta',
  name: 'Okta',
  description: 'Users with MFA factors and admin roles, password policies and the System Log, from an Okta org (API token or OAuth 2.0 service app).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['base_url', 'auth_method'],
    properties: {
      ...maxResponseMbProperty,
      base_url: { type: 'string', format: 'uri', description: 'The org URL, e.g. https://acme.okta.com.' },
      auth_method: { enum: ['api_token', 'oauth'], description: '`api_token` (SSWS) or `oauth` (service app with a private-key JWT).' },
      client_id: { type: 'string', description: 'OAuth service app client id (auth_method oauth).' },
      key_id: { type: 'string', description: 'The `kid` of the service app’s public key, if Okta holds several.' },
      scopes: { type: 'array', items: { type: 'string' }, description: `OAuth scopes to request (default: ${DEFAULT_SCOPES.join(' ')}).` },
      enrich: { type: 'boolean', default: true, description: 'Look up each user’s MFA factors and admin roles (two requests per user). Off: mfa_enrolled and is_admin are null, which MFA rules report as failing, never as passing.' },
      enrich_concurrency: { type: 'integer', minimum: 1, maximum: 32, default: 8, description: 'Factor and role look-ups in flight at once.' },
      system_log_initial_days: { type: 'integer', minimum: 1, maximum: 90, default: DEFAULT_LOG_DAYS, description: 'How far back the first System Log collection reaches.' },
    },
    if: { properties: { auth_method: { const: 'oauth' } } },
    then: { required: ['client_id'] },
  },
  secretsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      api_token: { type: 'string', minLength: 1, description: 'An Okta API token (auth_method api_token).' },
      private_key: { type: 'string', minLength: 1, description: 'PEM private key of the service app (auth_method oauth).' },
    },
  },
  urlFields: ['base_url'],

  open: (context) => new OktaClient(connectionContext(context), context.config as unknown as OktaConfig),

  async test(okta) {
    await okta.get('/api/v1/users?limit=1', 'reading one user');
  },

  datasets: {
    'okta.users': {
      ...oktaDatasets['okta.users'],
      async *pages(okta, cursor) {
        let position = (cursor as UsersCursor | null) ?? { phase: 'listed', url: usersUrl() };
        const concurrency = okta.config.enrich_concurrency ?? 8;
        for (;;) {
          const pages = okta.pages<{ id: string; status: string }>(position.url, 'listing users');
          for await (const page of pages) {
            const records = await mapConcurrent(page.items, concurrency, async (user) => {
              // Deprovisioned users cannot sign in and Okta resets their factors: nothing to look up.
              if (user.status === 'DEPROVISIONED') return userRecord(user, [], []);
              if (okta.config.enrich === false) return userRecord(user, null, null);
              const [factors, roles] = await Promise.all([
                okta.get(`/api/v1/users/${user.id}/factors`, `listing the factors of ${user.id}`).then((r) => r.json<OktaFactor[]>()),
                okta.get(`/api/v1/users/${user.id}/roles`, `listing the admin roles of ${user.id}`).then((r) => r.json<OktaRole[]>()),
              ]);
              return userRecord(user, factors, roles);
            });
            const next: UsersCursor | null = page.next
              ? { phase: position.phase, url: page.next }
              : position.phase === 'listed'
                ? { phase: 'deprovisioned', url: usersUrl('status eq "DEPROVISIONED"') }
                : null;
            yield { records, next: next as JsonValue };
            if (!page.next) break;
          }
          if (position.phase === 'deprovisioned') return;
          position = { phase: 'deprovisioned', url: usersUrl('status eq "DEPROVISIONED"') };
        }
      },
    },

    'okta.password_policies': {
      ...oktaDatasets['okta.password_policies'],
      async *pages(okta, cursor) {
        for await (const page of okta.pages<Parameters<typeof passwordPolicyRecord>[0]>((cursor as string | null) ?? '/api/v1/policies?type=PASSWORD', 'listing password policies')) {
          yield { records: page.items.map(passwordPolicyRecord), next: page.next };
        }
      },
    },

    'okta.system_log': {
      ...oktaDatasets['okta.system_log'],
      async *pages(okta, cursor, { since, now }) {
        // Incremental: from the start of the last successful collection up to the start of this one.
        const from = since ?? new Date(now.getTime() - (okta.config.system_log_initial_days ?? DEFAULT_LOG_DAYS) * 86_400_000).toISOString();
        const first = `/api/v1/logs?since=${encodeURIComponent(from)}&until=${encodeURIComponent(now.toISOString())}&limit=${LOG_PAGE_SIZE}&sortOrder=ASCENDING`;
        for await (const page of okta.pages<Parameters<typeof logEventRecord>[0]>((cursor as string | null) ?? first, 'reading the System Log')) {
          // Okta keeps offering a next link for polling; an empty page is the end.
          const next = page.items.length > 0 ? page.next : null;
          yield { records: page.items.map(logEventRecord), next };
          if (!next) return;
        }
      },
    },
  },
};
