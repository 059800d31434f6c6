/**
 * The normalised records the Okta connector produces, one JSON Schema (draft 2020-12) per
 * dataset. Mapping rules are written against these shapes: snake_case fields, ISO-8601
 * timestamps, `null` when Okta does not say.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;
const count = { type: ['integer', 'null'], minimum: 0 } as const;

export const OKTA_USER_STATUSES = ['ACTIVE', 'DEPROVISIONED', 'SUSPENDED', 'STAGED', 'PROVISIONED', 'LOCKED_OUT', 'PASSWORD_EXPIRED', 'RECOVERY'] as const;

export const oktaDatasets = {
  'okta.users': {
    description: 'Every Okta user with status, sign-in activity, enrolled MFA factors and administrator roles.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'id',
        'login',
        'email',
        'first_name',
        'last_name',
        'status',
        'created',
        'activated',
        'status_changed',
        'last_login',
        'password_changed',
        'mfa_enrolled',
        'mfa_factors',
        'is_admin',
        'admin_roles',
      ],
      properties: {
        id: { type: 'string', description: 'Okta user id (00u…).' },
        login: { type: 'string', description: 'Okta username, usually an email address.' },
        email: text,
        first_name: text,
        last_name: text,
        status: { enum: OKTA_USER_STATUSES, description: 'Lifecycle status.' },
        created: timestamp,
        activated: timestamp,
        status_changed: { ...timestamp, description: 'When the status last changed (e.g. when the user was deprovisioned).' },
        last_login: { ...timestamp, description: 'Last successful sign-in; null when the user never signed in.' },
        password_changed: timestamp,
        mfa_enrolled: { type: ['boolean', 'null'], description: 'At least one factor is ACTIVE; null when the connection does not look factors up (enrich: false).' },
        mfa_factors: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'type', 'provider', 'status'],
            properties: {
              id: { type: 'string' },
              type: { type: 'string', description: 'e.g. push, token:software:totp, webauthn, sms.' },
              provider: { type: 'string', description: 'e.g. OKTA, GOOGLE, FIDO.' },
              status: { type: 'string', description: 'e.g. ACTIVE, PENDING_ACTIVATION.' },
            },
          },
        },
        is_admin: { type: ['boolean', 'null'], description: 'The user holds at least one administrator role; null when roles are not looked up (enrich: false).' },
        admin_roles: { type: 'array', items: { type: 'string' }, description: 'Role types, e.g. SUPER_ADMIN, ORG_ADMIN.' },
      },
    },
  },
  'okta.password_policies': {
    description: 'Okta password policies with their complexity, age, history and lockout settings.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'id',
        'name',
        'status',
        'priority',
        'system',
        'min_length',
        'min_lower_case',
        'min_upper_case',
        'min_number',
        'min_symbol',
        'exclude_username',
        'history_count',
        'max_age_days',
        'min_age_minutes',
        'lockout_max_attempts',
        'lockout_auto_unlock_minutes',
      ],
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        status: { enum: ['ACTIVE', 'INACTIVE'] },
        priority: { type: 'integer', description: '1 is evaluated first.' },
        system: { type: 'boolean', description: 'The built-in default policy.' },
        min_length: count,
        min_lower_case: count,
        min_upper_case: count,
        min_number: count,
        min_symbol: count,
        exclude_username: { type: ['boolean', 'null'] },
        history_count: { ...count, description: 'Previous passwords that cannot be reused.' },
        max_age_days: { ...count, description: 'Password expiry in days; 0 = never.' },
        min_age_minutes: count,
        lockout_max_attempts: { ...count, description: 'Failed attempts before lockout; 0 or null = no lockout.' },
        lockout_auto_unlock_minutes: { ...count, description: 'Null when an administrator must unlock.' },
      },
    },
  },
  'okta.system_log': {
    description: 'Okta System Log events (sign-ins, administrative changes, policy evaluations).',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'uuid',
        'published',
        'event_type',
        'display_message',
        'severity',
        'outcome_result',
        'outcome_reason',
        'actor_id',
        'actor_type',
        'actor_alternate_id',
        'client_ip',
        'targets',
      ],
      properties: {
        uuid: { type: 'string' },
        published: { type: 'string', format: 'date-time' },
        event_type: { type: 'string', description: 'e.g. user.session.start, user.lifecycle.deactivate.' },
        display_message: text,
        severity: { enum: ['DEBUG', 'INFO', 'WARN', 'ERROR'] },
        outcome_result: { type: ['string', 'null'], description: 'SUCCESS, FAILURE, SKIPPED, ALLOW, DENY, CHALLENGE or UNKNOWN.' },
        outcome_reason: text,
        actor_id: text,
        actor_type: text,
        actor_alternate_id: text,
        client_ip: text,
        targets: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['id', 'type', 'alternate_id'],
            properties: { id: { type: 'string' }, type: { type: 'string' }, alternate_id: text },
          },
        },
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
