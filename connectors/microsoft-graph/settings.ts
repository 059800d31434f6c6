import type { JsonSchema } from '../../lib/json-schema.js';
import { maxResponseMbProperty } from '../types.js';

/** One app registration's settings, the same for the entra and intune connectors. */
export interface GraphConfig {
  tenant_id: string;
  client_id: string;
  /** The Microsoft identity platform's authority host (national clouds: login.microsoftonline.us, login.partner.microsoftonline.cn). */
  authority_url?: string;
  /** Microsoft Graph's base URL (national clouds: graph.microsoft.us, microsoftgraph.chinacloudapi.cn). */
  graph_url?: string;
  /** OAuth scope; default `<graph_url origin>/.default`. */
  scope?: string;
  api_version?: 'v1.0' | 'beta';
  page_size?: number;
  max_response_mb?: number;
}

export const DEFAULT_AUTHORITY = 'https://login.microsoftonline.com';
export const DEFAULT_GRAPH = 'https://graph.microsoft.com';

export const graphConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tenant_id', 'client_id'],
  properties: {
    tenant_id: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9.-]+$', description: 'Directory (tenant) id, or a verified domain such as contoso.onmicrosoft.com.' },
    client_id: { type: 'string', minLength: 1, description: 'Application (client) id of the app registration.' },
    authority_url: { type: 'string', format: 'uri', default: DEFAULT_AUTHORITY, description: 'Microsoft identity platform authority host (e.g. https://login.microsoftonline.us for US Government).' },
    graph_url: { type: 'string', format: 'uri', default: DEFAULT_GRAPH, description: 'Microsoft Graph base URL (e.g. https://graph.microsoft.us for US Government L4).' },
    scope: { type: 'string', minLength: 1, description: 'OAuth scope requested; default the Graph URL followed by /.default (the application permissions granted by admin consent).' },
    api_version: { enum: ['v1.0', 'beta'], default: 'v1.0', description: 'Graph API version.' },
    page_size: { type: 'integer', minimum: 1, maximum: 999, default: 999, description: '$top for list requests (Graph caps most lists at 999).' },
    ...maxResponseMbProperty,
  },
};

export const graphSecretsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    client_secret: { type: 'string', minLength: 1, description: 'A client secret of the app registration.' },
    private_key: { type: 'string', minLength: 1, description: 'PEM private key of a certificate uploaded to the app registration (instead of a client secret).' },
    certificate_thumbprint: {
      type: 'string', pattern: '^(?:[0-9A-Fa-f]{2}:?){19}[0-9A-Fa-f]{2}$|^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$',
      description: 'The certificate’s thumbprint as the portal shows it: SHA-1 (40 hex digits, sent as x5t with RS256) or SHA-256 (64 hex digits, sent as x5t#S256 with PS256).',
    },
  },
  anyOf: [{ required: ['client_secret'] }, { required: ['private_key', 'certificate_thumbprint'] }],
};

export const graphUrlFields = ['authority_url', 'graph_url'];
