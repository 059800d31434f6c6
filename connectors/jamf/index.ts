import { ConnectorError, errorForStatus } from '../errors.js';
import type { HttpResponse } from '../http-client.js';
import { pacedRequest } from '../paced-request.js';
import { RateLimitPacer } from '../pacer.js';
import { TokenCache } from '../token-cache.js';
import { connectionContext, maxResponseMbProperty, type ConnectorContext, type JsonValue, type SourceConnector } from '../types.js';
import { jamfDatasets } from './records.js';

const SYSTEM = 'Jamf Pro';
const SECTIONS = ['GENERAL', 'DISK_ENCRYPTION', 'OPERATING_SYSTEM', 'SECURITY', 'HARDWARE'];

interface JamfConfig {
  base_url: string;
  client_id: string;
  page_size?: number;
}

/**
 * The request helper for Jamf Pro: OAuth client credentials at /api/oauth/token, the token
 * reused until shortly before expiry (and fetched again once on a 401), 429 + Retry-After.
 */
class JamfClient {
  readonly origin: string;
  private readonly tokens: TokenCache;
  private readonly pacer: RateLimitPacer;

  constructor(private readonly ctx: ConnectorContext, readonly config: JamfConfig) {
    this.origin = new URL(config.base_url).origin + new URL(config.base_url).pathname.replace(/\/+$/, '');
    this.pacer = new RateLimitPacer(ctx.sleep, ctx.heartbeat);
    this.tokens = new TokenCache(async () => {
      const secret = ctx.secrets.client_secret;
      if (!secret) throw new ConnectorError('bad_config', 'Jamf Pro: the connection has no client_secret secret.');
      const response = await ctx.http.request(`${this.origin}/api/oauth/token`, {
        method: 'POST', system: SYSTEM, what: 'obtaining an access token', signal: ctx.signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: config.client_id, client_secret: secret }).toString(),
      });
      if (response.status !== 200) throw errorForStatus(SYSTEM, response.status === 400 ? 401 : response.status, 'obtaining an access token', jamfMessage(response));
      const body = response.json<{ access_token: string; expires_in: number }>();
      return { value: body.access_token, expiresInSeconds: body.expires_in };
    }, 30_000);
  }

  get(path: string, what: string): Promise<HttpResponse> {
    return pacedRequest(this.ctx, {
      system: SYSTEM, what, pacer: this.pacer, bucket: 'api',
      send: async () => this.ctx.http.request(this.origin + path, {
        system: SYSTEM, what, signal: this.ctx.signal,
        headers: { authorization: `Bearer ${await this.tokens.get()}`, accept: 'application/json' },
      }),
      renewCredentials: () => this.tokens.invalidate(), // expired early or revoked: one fresh token
      message: jamfMessage,
    });
  }
}

function jamfMessage(response: HttpResponse): string | undefined {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { errors?: { description?: string }[]; error_description?: string };
    return body.errors?.map((e) => e.description).filter(Boolean).join('; ') || body.error_description;
  } catch {
    return undefined;
  }
}

interface JamfComputer {
  id: string;
  udid?: string | null;
  general?: { name?: string; lastContactTime?: string | null; lastEnrolledDate?: string | null; remoteManagement?: { managed?: boolean }; supervised?: boolean | null } | null;
  diskEncryption?: { bootPartitionEncryptionDetails?: { partitionFileVault2State?: string } | null } | null;
  operatingSystem?: { name?: string | null; version?: string | null; build?: string | null; fileVault2Status?: string | null } | null;
  security?: { firewallEnabled?: boolean; sipStatus?: string | null; gatekeeperStatus?: string | null; xprotectVersion?: string | null } | null;
  hardware?: { model?: string | null; serialNumber?: string | null } | null;
}

/** Jamf's inventory sections → the normalised record (FileVault on means the boot volume is ENCRYPTED). */
export function computerRecord(c: JamfComputer): JsonValue {
  return {
    id: String(c.id),
    udid: c.udid ?? null,
    name: c.general?.name ?? '',
    serial_number: c.hardware?.serialNumber ?? null,
    managed: c.general?.remoteManagement?.managed ?? false,
    supervised: c.general?.supervised ?? null,
    last_contact: c.general?.lastContactTime ?? null,
    last_enrolled: c.general?.lastEnrolledDate ?? null,
    model: c.hardware?.model ?? null,
    os_name: c.operatingSystem?.name ?? null,
    os_version: c.operatingSystem?.version ?? null,
    os_build: c.operatingSystem?.build ?? null,
    filevault_enabled: c.diskEncryption?.bootPartitionEncryptionDetails?.partitionFileVault2State === 'ENCRYPTED',
    filevault_status: c.operatingSystem?.fileVault2Status ?? null,
    firewall_enabled: c.security?.firewallEnabled ?? false,
    sip_status: c.security?.sipStatus ?? null,
    gatekeeper_status: c.security?.gatekeeperStatus ?? null,
    xprotect_version: c.security?.xprotectVersion ?? null,
  };
}

export const jamfConnector: SourceConnector<JamfClient> = {
  type: 'jamf',
  name: 'Jamf Pro',
  description: 'Managed Macs with FileVault, firewall, OS and check-in state, from the Jamf Pro API (OAuth API client).',
  configSchema: {
    type: 'object', additionalProperties: false, required: ['base_url', 'client_id'],
    properties: {
      base_url: { type: 'string', format: 'uri', description: 'e.g. https://acme.jamfcloud.com' },
      client_id: { type: 'string', minLength: 1, description: 'API client id (Settings → API roles and clients).' },
      page_size: { type: 'integer', minimum: 1, maximum: 2000, default: 100 },
      ...maxResponseMbProperty,
    },
  },
  secretsSchema: { type: 'object', additionalProperties: false, required: ['client_secret'], properties: { client_secret: { type: 'string', minLength: 1 } } },
  urlFields: ['base_url'],
  open: (ctx) => new JamfClient(connectionContext(ctx), ctx.config as unknown as JamfConfig),
  async test(jamf) {
    await jamf.get('/api/v1/jamf-pro-version', 'reading the Jamf Pro version');
  },
  datasets: {
    'jamf.computers': {
      ...jamfDatasets['jamf.computers'],
      async *pages(jamf, cursor) {
        const size = jamf.config.page_size ?? 100;
        const sections = SECTIONS.map((s) => `section=${s}`).join('&');
        // Sorted by id so that pages stay stable while the walk goes on.
        for (let page = (cursor as number | null) ?? 0; ; page++) {
          const response = await jamf.get(`/api/v1/computers-inventory?${sections}&page=${page}&page-size=${size}&sort=id%3Aasc`, `listing computers (page ${page})`);
          const body = response.json<{ totalCount: number; results: JamfComputer[] }>();
          const done = body.results.length === 0 || (page + 1) * size >= body.totalCount;
          yield { records: body.results.map(computerRecord), next: done ? null : page + 1 };
          if (done) return;
        }
      },
    },
  },
};
