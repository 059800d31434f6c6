/**
 * The normalised records the github connector produces, one JSON Schema (draft 2020-12) per
 * dataset: snake_case fields, ISO-8601 timestamps, `null` when GitHub does not say.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;
const flag = { type: ['boolean', 'null'] } as const;

const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

export const githubDatasets = {
  'github.org': {
    description: 'The organization (one record): whether it requires two-factor authentication of its members and outside collaborators (needs organization-owner access).',
    record_schema: object({
      id: { type: 'integer' },
      login: { type: 'string' },
      name: text,
      two_factor_requirement_enabled: { type: 'boolean', description: 'The organization requires 2FA. GitHub shows it to organization owners only: without that access the dataset fails, it is never read as false or true.' },
      default_repository_permission: text,
      members_can_create_public_repositories: flag,
      created: timestamp,
    }),
  },
  'github.members': {
    description: 'Organization members (with their role) and outside collaborators, each marked whether two-factor authentication is enabled (filter=2fa_disabled, organization owners only).',
    record_schema: object({
      id: { type: 'integer' },
      login: { type: 'string' },
      affiliation: { enum: ['member', 'outside_collaborator'] },
      role: { enum: ['admin', 'member', null], description: 'admin: an organization owner; null for outside collaborators.' },
      two_factor_enabled: { type: 'boolean', description: 'false when GitHub lists the account under filter=2fa_disabled.' },
      site_admin: flag,
    }),
  },
  'github.repositories': {
    description: 'The organization’s repositories: archived, visibility, default branch, and whether that branch requires pull-request reviews by branch protection or by an active ruleset (needs Administration read for branch protection).',
    record_schema: object({
      id: { type: 'integer' },
      name: { type: 'string' },
      full_name: { type: 'string' },
      visibility: { enum: ['public', 'private', 'internal', null] },
      archived: { type: 'boolean' },
      fork: flag,
      default_branch: text,
      branch_protected: { ...flag, description: 'The default branch has classic branch protection; null for archived repositories (not read).' },
      protection_requires_reviews: { ...flag, description: 'Its branch protection requires at least one approving review.' },
      ruleset_requires_reviews: { ...flag, description: 'An active ruleset (repository or organization) requires a pull request with at least one approving review on the default branch.' },
      default_branch_requires_reviews: { ...flag, description: 'Either of the two: merging into the default branch needs an approved pull request.' },
      required_approving_review_count: { type: ['integer', 'null'], minimum: 0, description: 'The most approving reviews either requires.' },
      pushed: timestamp,
    }),
  },
  'github.dependabot_alerts': {
    description: 'Open Dependabot alerts across the organization’s repositories, with severity, the advisory and the package, and when each was opened.',
    record_schema: object({
      id: { type: 'string', description: '<repository full name>#<alert number>.' },
      number: { type: 'integer' },
      repository: { type: 'string' },
      state: { type: 'string', description: 'open (the connector asks for open alerts).' },
      severity: { enum: ['critical', 'high', 'medium', 'low', null] },
      ghsa_id: text,
      cve_id: text,
      summary: text,
      package_ecosystem: text,
      package_name: text,
      manifest_path: text,
      created: timestamp,
    }),
  },
  'github.secret_scanning_alerts': {
    description: 'Open secret-scanning alerts across the organization’s repositories: the secret type and when it was found. The leaked secret itself is never collected.',
    record_schema: object({
      id: { type: 'string', description: '<repository full name>#<alert number>.' },
      number: { type: 'integer' },
      repository: { type: 'string' },
      state: { type: 'string' },
      secret_type: text,
      secret_type_display_name: text,
      validity: text,
      push_protection_bypassed: flag,
      created: timestamp,
    }),
  },
};
