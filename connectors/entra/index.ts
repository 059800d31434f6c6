import { mapConcurrent } from '../../lib/map-concurrent.js';
import { ConnectorError } from '../errors.js';
import { GraphClient, type GraphCall } from '../microsoft-graph/client.js';
import { LicenceError } from '../microsoft-graph/errors.js';
import { graphConfigSchema, graphSecretsSchema, graphUrlFields, type GraphConfig } from '../microsoft-graph/settings.js';
import { connectionContext, type JsonValue, type SourceConnector } from '../types.js';
import {
  conditionalAccessRecord, registrationRecord, roleAssignmentRecord, userRecord,
  type GraphConditionalAccessPolicy, type GraphRegistrationDetails, type GraphRoleAssignment, type GraphRoleDefinition, type GraphUser,
} from './normalise.js';
import { entraDatasets } from './records.js';

const PREMIUM = 'a Microsoft Entra ID P1 or P2 licence';

const CALLS = {
  users: { what: 'listing users with their sign-in activity', permission: 'User.Read.All and AuditLog.Read.All (signInActivity)', licence: `${PREMIUM} (signInActivity)` },
  accountStates: { what: 'listing users (account enabled)', permission: 'User.Read.All' },
  registration: { what: 'reading the authentication methods registration report (userRegistrationDetails)', permission: 'AuditLog.Read.All', licence: `${PREMIUM} (the authentication methods registration report)` },
  roleDefinitions: { what: 'listing directory role definitions', permission: 'RoleManagement.Read.Directory' },
  roleAssignments: { what: 'listing directory role assignments', permission: 'RoleManagement.Read.Directory' },
  conditionalAccess: { what: 'listing Conditional Access policies', permission: 'Policy.Read.All', licence: `${PREMIUM} (Conditional Access)` },
  securityDefaults: { what: 'reading the security defaults policy', permission: 'Policy.Read.All' },
} satisfies Record<string, GraphCall>;

const USER_FIELDS = 'id,userPrincipalName,displayName,mail,accountEnabled,userType,createdDateTime,signInActivity';
const REGISTRATION_FIELDS = 'id,userPrincipalName,userDisplayName,userType,isAdmin,isMfaRegistered,isMfaCapable,isSsprRegistered,isPasswordlessCapable,methodsRegistered,lastUpdatedDateTime';
const CA_PATH = '/identity/conditionalAccess/policies';

/**
 * Every Conditional Access policy, normalised (one walk; a handful of pages at most). A tenant
 * without the licence Conditional Access needs has none in force: for security defaults (the
 * unlicensed tenant's MFA) that is an empty list, while a missing permission stays an error.
 */
async function allPolicies(graph: GraphClient, { unlicensedIsNone }: { unlicensedIsNone: boolean }) {
  const records = [];
  try {
    for await (const page of graph.pages<GraphConditionalAccessPolicy>(CA_PATH, CALLS.conditionalAccess)) records.push(...page.items.map(conditionalAccessRecord));
  } catch (err) {
    if (unlicensedIsNone && err instanceof LicenceError) return [];
    throw err;
  }
  return records;
}

/** The MFA registration of one user: null when the report has no entry for them. */
async function registrationOf(graph: GraphClient, userId: string): Promise<boolean | null> {
  try {
    const details = await graph.get<GraphRegistrationDetails>(`/reports/authenticationMethods/userRegistrationDetails/${encodeURIComponent(userId)}`, CALLS.registration);
    return details.isMfaRegistered === true;
  } catch (err) {
    if (err instanceof ConnectorError && err.kind === 'not_found') return null;
    throw err;
  }
}

export const entraConnector: SourceConnector<GraphClient> = {
  type: 'entra',
  name: 'Microsoft Entra ID',
  description: 'Users and sign-in activity, MFA registration, privileged directory roles, Conditional Access and security defaults, from Microsoft Graph (app registration with a client secret or a certificate).',
  configSchema: graphConfigSchema,
  secretsSchema: graphSecretsSchema,
  urlFields: graphUrlFields,

  open: (context) => new GraphClient(connectionContext(context), context.config as unknown as GraphConfig),

  async test(graph) {
    await graph.authenticate();
    await graph.get('/users?$top=1&$select=id', { what: 'reading one user', permission: 'User.Read.All' });
  },

  datasets: {
    'entra.users': {
      ...entraDatasets['entra.users'],
      async *pages(graph, cursor) {
        const first = `/users?$select=${USER_FIELDS}&$top=${graph.pageSize}`;
        for await (const page of graph.pages<GraphUser>((cursor as string | null) ?? first, CALLS.users)) {
          yield { records: page.items.map(userRecord), next: page.next };
        }
      },
    },

    'entra.mfa_registration': {
      ...entraDatasets['entra.mfa_registration'],
      async *pages(graph, cursor) {
        // The report does not say whether an account is enabled: the users list does (ids only, 999 a page).
        const enabled = new Map<string, boolean | null>();
        for await (const page of graph.pages<GraphUser>(`/users?$select=id,accountEnabled&$top=999`, CALLS.accountStates)) {
          for (const user of page.items) enabled.set(user.id, user.accountEnabled ?? null);
        }
        const first = `/reports/authenticationMethods/userRegistrationDetails?$select=${REGISTRATION_FIELDS}&$top=${graph.pageSize}`;
        for await (const page of graph.pages<GraphRegistrationDetails>((cursor as string | null) ?? first, CALLS.registration)) {
          yield { records: page.items.map((details) => registrationRecord(details, enabled.get(details.id) ?? null)), next: page.next };
        }
      },
    },

    'entra.directory_roles': {
      ...entraDatasets['entra.directory_roles'],
      async *pages(graph, cursor) {
        const roles = new Map<string, GraphRoleDefinition>();
        for await (const page of graph.pages<GraphRoleDefinition>('/roleManagement/directory/roleDefinitions?$select=id,displayName,templateId,isBuiltIn', CALLS.roleDefinitions)) {
          for (const role of page.items) roles.set(role.id, role);
        }
        const first = '/roleManagement/directory/roleAssignments?$expand=principal';
        for await (const page of graph.pages<GraphRoleAssignment>((cursor as string | null) ?? first, CALLS.roleAssignments)) {
          const users = [...new Set(page.items.filter((a) => a.principal?.['@odata.type'] === '#microsoft.graph.user').map((a) => a.principalId))];
          const mfa = new Map(await mapConcurrent(users, 4, async (id) => [id, await registrationOf(graph, id)] as const));
          yield { records: page.items.map((a) => roleAssignmentRecord(a, roles.get(a.roleDefinitionId), mfa.get(a.principalId) ?? null)), next: page.next };
        }
      },
    },

    'entra.conditional_access': {
      ...entraDatasets['entra.conditional_access'],
      async *pages(graph, cursor) {
        for await (const page of graph.pages<GraphConditionalAccessPolicy>((cursor as string | null) ?? CA_PATH, CALLS.conditionalAccess)) {
          yield { records: page.items.map(conditionalAccessRecord), next: page.next };
        }
      },
    },

    'entra.security_defaults': {
      ...entraDatasets['entra.security_defaults'],
      async *pages(graph) {
        const policy = await graph.get<{ id?: string; displayName?: string; isEnabled?: boolean }>('/policies/identitySecurityDefaultsEnforcementPolicy', CALLS.securityDefaults);
        const enforcing = (await allPolicies(graph, { unlicensedIsNone: true })).filter((p) => p.enforces_mfa_for_all_users).map((p) => p.display_name);
        const record: JsonValue = {
          id: policy.id ?? '00000000-0000-0000-0000-000000000005',
          display_name: policy.displayName ?? 'Security Defaults',
          is_enabled: policy.isEnabled === true,
          mfa_policies_for_all_users: enforcing,
          mfa_policy_count: enforcing.length,
          mfa_enforced_for_all_users: policy.isEnabled === true || enforcing.length > 0,
        };
        yield { records: [record], next: null };
      },
    },
  },
};
