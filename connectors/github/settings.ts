import type { JsonSchema } from '../../lib/json-schema.js';
import { maxResponseMbProperty } from '../types.js';

/** One GitHub organization's connection settings. */
export interface GitHubConfig {
  org: string;
  /** REST API base: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  api_url?: string;
  auth_method: 'app' | 'token';
  /** GitHub App id (auth_method app): the JWT's `iss`. */
  app_id?: string | number;
  /** The App's installation on the organization (auth_method app). */
  installation_id?: string | number;
  page_size?: number;
  /** Branch-protection and ruleset look-ups in flight at once. */
  concurrency?: number;
  max_response_mb?: number;
}

export const DEFAULT_API_URL = 'https://api.github.com';

export const githubConfigSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['org', 'auth_method'],
  properties: {
    org: { type: 'string', minLength: 1, maxLength: 39, pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$', description: 'The organization login, e.g. acme-corp.' },
    api_url: { type: 'string', format: 'uri', default: DEFAULT_API_URL, description: 'REST API base URL: https://api.github.com, or https://HOSTNAME/api/v3 for GitHub Enterprise Server.' },
    auth_method: { enum: ['app', 'token'], description: '`app`: a GitHub App installed on the organization (app_id, installation_id and the private_key secret); `token`: a fine-grained personal access token (the token secret).' },
    app_id: { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 1, description: 'The GitHub App’s App ID (auth_method app).' },
    installation_id: { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 1, description: 'The id of the App’s installation on the organization (auth_method app): the number at the end of the installation’s settings URL.' },
    page_size: { type: 'integer', minimum: 1, maximum: 100, default: 100, description: 'per_page for list requests (GitHub allows at most 100).' },
    concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 8, description: 'Branch-protection and ruleset look-ups in flight at once (github.repositories).' },
    ...maxResponseMbProperty,
  },
  if: { properties: { auth_method: { const: 'app' } } },
  then: { required: ['app_id', 'installation_id'] },
};

export const githubSecretsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    private_key: { type: 'string', minLength: 1, description: 'The GitHub App’s private key, PEM (auth_method app).' },
    token: { type: 'string', minLength: 1, description: 'A fine-grained personal access token with read access to the organization (auth_method token).' },
  },
};

export const githubUrlFields = ['api_url'];
