import type { JsonValue } from '../types.js';

/** Microsoft Graph objects → the normalised records of connectors/entra/records.ts. */

export interface GraphUser {
  id: string;
  userPrincipalName?: string | null;
  displayName?: string | null;
  mail?: string | null;
  accountEnabled?: boolean | null;
  userType?: string | null;
  createdDateTime?: string | null;
  signInActivity?: { lastSignInDateTime?: string | null; lastNonInteractiveSignInDateTime?: string | null; lastSuccessfulSignInDateTime?: string | null } | null;
}

const lower = (value: string | null | undefined): 'member' | 'guest' | null => {
  const v = value?.toLowerCase();
  return v === 'member' || v === 'guest' ? v : null;
};

function latest(...values: (string | null | undefined)[]): string | null {
  let best: string | null = null;
  for (const value of values) if (value && (best === null || Date.parse(value) > Date.parse(best))) best = value;
  return best;
}

export function userRecord(user: GraphUser): JsonValue {
  const activity = user.signInActivity ?? null;
  return {
    id: user.id,
    user_principal_name: user.userPrincipalName ?? '',
    display_name: user.displayName ?? null,
    mail: user.mail ?? null,
    account_enabled: user.accountEnabled ?? null,
    user_type: lower(user.userType),
    created: user.createdDateTime ?? null,
    last_sign_in: latest(activity?.lastSignInDateTime, activity?.lastNonInteractiveSignInDateTime, activity?.lastSuccessfulSignInDateTime),
    last_interactive_sign_in: activity?.lastSignInDateTime ?? null,
    last_non_interactive_sign_in: activity?.lastNonInteractiveSignInDateTime ?? null,
  };
}

export interface GraphRegistrationDetails {
  id: string;
  userPrincipalName?: string | null;
  userDisplayName?: string | null;
  userType?: string | null;
  isAdmin?: boolean | null;
  isMfaRegistered?: boolean | null;
  isMfaCapable?: boolean | null;
  isSsprRegistered?: boolean | null;
  isPasswordlessCapable?: boolean | null;
  methodsRegistered?: string[] | null;
  lastUpdatedDateTime?: string | null;
}

export function registrationRecord(details: GraphRegistrationDetails, accountEnabled: boolean | null): JsonValue {
  return {
    id: details.id,
    user_principal_name: details.userPrincipalName ?? '',
    user_display_name: details.userDisplayName ?? null,
    user_type: lower(details.userType),
    account_enabled: accountEnabled,
    is_admin: details.isAdmin ?? null,
    // Absent is not registered: the rule must never pass on a field Graph did not send.
    is_mfa_registered: details.isMfaRegistered === true,
    is_mfa_capable: details.isMfaCapable === true,
    is_sspr_registered: details.isSsprRegistered ?? null,
    is_passwordless_capable: details.isPasswordlessCapable ?? null,
    methods_registered: [...(details.methodsRegistered ?? [])],
    last_updated: details.lastUpdatedDateTime ?? null,
  };
}

/**
 * Built-in roles Microsoft labels PRIVILEGED (template ids), for tenants whose role
 * definitions do not carry isPrivileged.
 */
export const PRIVILEGED_ROLE_TEMPLATES = new Set([
  '62e90394-69f5-4237-9190-012177145e10', // Global Administrator
  'e8611ab8-c189-46e8-94e1-60213ab1f814', // Privileged Role Administrator
  '7be44c8a-adaf-4e2a-84d6-ab2649e08a13', // Privileged Authentication Administrator
  '194ae4cb-b126-40b2-bd5b-6091b380977d', // Security Administrator
  'fe930be7-5e62-47db-91af-98c3a49a38b1', // User Administrator
  'c4e39bd9-1100-46d3-8c65-fb160da0071f', // Authentication Administrator
  'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', // Conditional Access Administrator
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', // Application Administrator
  '158c047a-c907-4556-b7ef-446551a6b5f7', // Cloud Application Administrator
  '729827e3-9c14-49f7-bb1b-9608f156bbb8', // Helpdesk Administrator
  '29232cdf-9323-42fd-ade2-1d097af3e4de', // Exchange Administrator
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c', // SharePoint Administrator
  '3a2c62db-5318-420d-8d74-23affee5d9d5', // Intune Administrator
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2', // Hybrid Identity Administrator
]);

export interface GraphRoleDefinition {
  id: string;
  displayName?: string | null;
  templateId?: string | null;
  isBuiltIn?: boolean | null;
  isPrivileged?: boolean | null;
}

export interface GraphRoleAssignment {
  id: string;
  roleDefinitionId: string;
  principalId: string;
  directoryScopeId?: string | null;
  principal?: { '@odata.type'?: string; id?: string; userPrincipalName?: string | null; displayName?: string | null; accountEnabled?: boolean | null } | null;
}

export function principalTypeOf(assignment: GraphRoleAssignment): 'user' | 'group' | 'servicePrincipal' | 'unknown' {
  const type = assignment.principal?.['@odata.type'];
  if (type === '#microsoft.graph.user') return 'user';
  if (type === '#microsoft.graph.group') return 'group';
  if (type === '#microsoft.graph.servicePrincipal') return 'servicePrincipal';
  return 'unknown';
}

export function roleAssignmentRecord(assignment: GraphRoleAssignment, role: GraphRoleDefinition | undefined, mfaRegistered: boolean | null): JsonValue {
  const template = role?.templateId ?? assignment.roleDefinitionId;
  const principal = assignment.principal ?? null;
  return {
    id: assignment.id,
    role_id: assignment.roleDefinitionId,
    role_name: role?.displayName ?? assignment.roleDefinitionId,
    privileged: role?.isPrivileged === true || PRIVILEGED_ROLE_TEMPLATES.has(template),
    principal_id: assignment.principalId,
    principal_type: principalTypeOf(assignment),
    principal_name: principal?.userPrincipalName ?? principal?.displayName ?? null,
    principal_enabled: principal?.accountEnabled ?? null,
    directory_scope_id: assignment.directoryScopeId ?? '/',
    mfa_registered: mfaRegistered,
  };
}

export interface GraphConditionalAccessPolicy {
  id: string;
  displayName?: string | null;
  state: 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';
  createdDateTime?: string | null;
  modifiedDateTime?: string | null;
  conditions?: {
    users?: { includeUsers?: string[]; excludeUsers?: string[]; includeGroups?: string[]; excludeGroups?: string[]; includeRoles?: string[] } | null;
    applications?: { includeApplications?: string[] } | null;
  } | null;
  grantControls?: { operator?: string; builtInControls?: string[]; authenticationStrength?: { id?: string } | null } | null;
}

export function conditionalAccessRecord(policy: GraphConditionalAccessPolicy): JsonValue & { enforces_mfa_for_all_users: boolean; display_name: string } {
  const users = policy.conditions?.users ?? {};
  const includeApps = policy.conditions?.applications?.includeApplications ?? [];
  const controls = policy.grantControls?.builtInControls ?? [];
  // A policy whose grant is "mfa OR something else" can be satisfied without MFA.
  const orWithOthers = policy.grantControls?.operator === 'OR' && controls.some((c) => c !== 'mfa');
  const requiresMfa = !orWithOthers && (controls.includes('mfa') || Boolean(policy.grantControls?.authenticationStrength?.id));
  const allUsers = (users.includeUsers ?? []).includes('All');
  const allApps = includeApps.includes('All');
  return {
    id: policy.id,
    display_name: policy.displayName ?? policy.id,
    state: policy.state,
    include_users: [...(users.includeUsers ?? [])],
    exclude_users: [...(users.excludeUsers ?? [])],
    include_groups: [...(users.includeGroups ?? [])],
    exclude_groups: [...(users.excludeGroups ?? [])],
    include_roles: [...(users.includeRoles ?? [])],
    include_applications: [...includeApps],
    built_in_controls: [...controls],
    requires_mfa: requiresMfa,
    applies_to_all_users: allUsers,
    applies_to_all_apps: allApps,
    targets_admin_roles: (users.includeRoles ?? []).length > 0,
    enforces_mfa_for_all_users: policy.state === 'enabled' && requiresMfa && allUsers && allApps,
    created: policy.createdDateTime ?? null,
    modified: policy.modifiedDateTime ?? null,
  };
}
