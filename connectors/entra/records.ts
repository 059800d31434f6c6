/**
 * The normalised records the entra connector produces, one JSON Schema (draft 2020-12) per
 * dataset: snake_case fields, ISO-8601 timestamps, `null` when Graph does not say.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;
const userType = { enum: ['member', 'guest', null], description: 'Graph userType, in lower case (member, guest).' } as const;

const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

export const entraDatasets = {
  'entra.users': {
    description: 'Every Entra ID user: enabled, member or guest, created, and the last sign-in from signInActivity (needs Entra ID P1/P2).',
    record_schema: object({
      id: { type: 'string', description: 'Object id.' },
      user_principal_name: { type: 'string' },
      display_name: text,
      mail: text,
      account_enabled: { type: ['boolean', 'null'] },
      user_type: userType,
      created: timestamp,
      last_sign_in: { ...timestamp, description: 'The latest of the last interactive and non-interactive sign-ins; null when the user never signed in.' },
      last_interactive_sign_in: timestamp,
      last_non_interactive_sign_in: timestamp,
    }),
  },
  'entra.mfa_registration': {
    description: 'Per user, from the authentication methods registration report (userRegistrationDetails, needs Entra ID P1/P2): MFA registered and capable, methods, admin flag, and whether the account is enabled.',
    record_schema: object({
      id: { type: 'string', description: 'The user’s object id.' },
      user_principal_name: { type: 'string' },
      user_display_name: text,
      user_type: userType,
      account_enabled: { type: ['boolean', 'null'], description: 'From the users list; null when the user is not in it (deleted since the report was built).' },
      is_admin: { type: ['boolean', 'null'], description: 'The user holds an admin role (Graph’s isAdmin).' },
      is_mfa_registered: { type: 'boolean' },
      is_mfa_capable: { type: 'boolean', description: 'Registered a strong method allowed by the tenant’s policy.' },
      is_sspr_registered: { type: ['boolean', 'null'] },
      is_passwordless_capable: { type: ['boolean', 'null'] },
      methods_registered: { ...strings, description: 'e.g. microsoftAuthenticatorPush, fido2, softwareOneTimePasscode, mobilePhone.' },
      last_updated: timestamp,
    }),
  },
  'entra.directory_roles': {
    description: 'Directory role assignments (roleManagement/directory) with the role, whether it is privileged, the principal, and for user principals whether they registered MFA.',
    record_schema: object({
      id: { type: 'string', description: 'Role assignment id.' },
      role_id: { type: 'string', description: 'Role definition id (the template id for built-in roles).' },
      role_name: { type: 'string' },
      privileged: { type: 'boolean', description: 'Graph’s isPrivileged, or one of the built-in roles Microsoft lists as privileged.' },
      principal_id: { type: 'string' },
      principal_type: { enum: ['user', 'group', 'servicePrincipal', 'unknown'] },
      principal_name: text,
      principal_enabled: { type: ['boolean', 'null'] },
      directory_scope_id: { type: 'string' },
      mfa_registered: { type: ['boolean', 'null'], description: 'For user principals, from their registration details; null for groups and service principals.' },
    }),
  },
  'entra.conditional_access': {
    description: 'Conditional Access policies: state, who and which apps they cover, grant controls, and whether they require MFA for all users or for administrators.',
    record_schema: object({
      id: { type: 'string' },
      display_name: { type: 'string' },
      state: { enum: ['enabled', 'disabled', 'enabledForReportingButNotEnforced'] },
      include_users: strings,
      exclude_users: strings,
      include_groups: strings,
      exclude_groups: strings,
      include_roles: strings,
      include_applications: strings,
      built_in_controls: strings,
      requires_mfa: { type: 'boolean', description: 'Grants require mfa, or an authentication strength.' },
      applies_to_all_users: { type: 'boolean' },
      applies_to_all_apps: { type: 'boolean' },
      targets_admin_roles: { type: 'boolean', description: 'Includes at least one directory role.' },
      enforces_mfa_for_all_users: { type: 'boolean', description: 'Enabled, all users, all cloud apps, MFA required.' },
      created: timestamp,
      modified: timestamp,
    }),
  },
  'entra.security_defaults': {
    description: 'Security defaults (identitySecurityDefaultsEnforcementPolicy), with the Conditional Access policies that enforce MFA for all users: MFA is tenant-wide when either is on.',
    record_schema: object({
      id: { type: 'string' },
      display_name: { type: 'string' },
      is_enabled: { type: 'boolean' },
      mfa_policies_for_all_users: { ...strings, description: 'Names of enabled Conditional Access policies that require MFA for all users and all apps.' },
      mfa_policy_count: { type: 'integer', minimum: 0 },
      mfa_enforced_for_all_users: { type: 'boolean', description: 'Security defaults are on, or at least one such policy is.' },
    }),
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
