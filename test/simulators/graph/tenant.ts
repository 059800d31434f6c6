// A seeded Microsoft Entra ID tenant with Intune, as Microsoft Graph v1.0
// resources: users (with signInActivity), the authentication methods
// registration report (userRegistrationDetails), directory role definitions
// and assignments, Conditional Access policies, the security defaults policy,
// Intune managed devices and device compliance policies. Shapes follow the
// Graph v1.0 reference for each resource type; values are generated.

import { assignCategories, Rng } from '../common/random.js';
import { handleOf, randomPerson } from '../common/people.js';
import { DAY_MS, HOUR_MS, iso } from '../common/time.js';

export interface GraphUserOptions {
  /** Users in the tenant (default 40). */
  total?: number;
  /** accountEnabled false. */
  disabled?: number;
  /** Enabled guests who signed in recently. */
  guests?: number;
  /** Enabled guests invited long ago (over `guestMaxAgeDays`) who have not signed in within the stale threshold. */
  staleGuests?: number;
  /** Enabled members whose last sign-in is older than `staleSignInDays`. */
  staleSignIns?: number;
  /** Enabled members created before the stale threshold who never signed in. */
  neverSignedIn?: number;
  /** Enabled members with no MFA method registered. */
  withoutMfa?: number;
  /** Enabled members holding a privileged directory role, MFA registered. */
  admins?: number;
  /** Enabled members holding a privileged directory role without MFA. */
  adminsWithoutMfa?: number;
}

export interface GraphDeviceOptions {
  /** Intune managed devices (default 30). */
  total?: number;
  /** complianceState noncompliant. */
  noncompliant?: number;
  /** isEncrypted false (and so noncompliant, as a policy requiring encryption marks them). */
  unencrypted?: number;
  /** Last sync older than `staleSyncDays`. */
  staleSync?: number;
  /** An OS version below the pack's minimum for its platform. */
  outdatedOs?: number;
}

export type ConditionalAccessSetup = 'enforced' | 'reportOnly' | 'none';

const USER_CATEGORY = ['member', 'disabled', 'guest', 'staleGuest', 'staleSignIn', 'neverSignedIn', 'withoutMfa', 'admin', 'adminWithoutMfa'] as const;
type UserCategory = (typeof USER_CATEGORY)[number];

export interface SimUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
  userType: 'Member' | 'Guest';
  createdMs: number;
  lastSignInMs: number | null;
  lastNonInteractiveSignInMs: number | null;
  methods: string[];
  isAdmin: boolean;
  category: UserCategory;
}

export interface SimRoleDefinition { id: string; displayName: string; templateId: string; isBuiltIn: true; privileged: boolean }
export interface SimRoleAssignment { id: string; roleDefinitionId: string; principalId: string; principalType: 'user' | 'servicePrincipal' | 'group'; directoryScopeId: string }
export interface SimServicePrincipal { id: string; displayName: string; appId: string }

export interface SimDevice {
  id: string;
  deviceName: string;
  operatingSystem: 'Windows' | 'macOS' | 'iOS' | 'Android';
  osVersion: string;
  complianceState: 'compliant' | 'noncompliant';
  isEncrypted: boolean;
  lastSyncMs: number;
  enrolledMs: number;
  managedDeviceOwnerType: 'company' | 'personal';
  userPrincipalName: string;
  model: string;
  manufacturer: string;
  serialNumber: string;
  azureADDeviceId: string;
  category: 'ok' | 'noncompliant' | 'unencrypted' | 'staleSync' | 'outdatedOs';
}

/** The pack's minimum OS versions, by platform (intune.yaml params). */
export const MINIMUM_OS: Record<SimDevice['operatingSystem'], string> = { Windows: '10.0.19045', macOS: '14.0', iOS: '17.0', Android: '13' };
const CURRENT_OS: Record<SimDevice['operatingSystem'], string[]> = {
  Windows: ['10.0.22631.4037', '10.0.26100.1742', '10.0.19045.4780'], macOS: ['14.6.1', '15.0.1', '14.10'], iOS: ['17.6.1', '18.0.1'], Android: ['14', '15', '13'],
};
const OUTDATED_OS: Record<SimDevice['operatingSystem'], string[]> = { Windows: ['10.0.19044.3086', '10.0.17763.5820'], macOS: ['13.6.7', '12.7.5'], iOS: ['16.7.8'], Android: ['12', '11'] };
const HARDWARE: Record<SimDevice['operatingSystem'], { manufacturer: string; model: string }> = {
  Windows: { manufacturer: 'Dell Inc.', model: 'Latitude 7440' }, macOS: { manufacturer: 'Apple', model: 'MacBook Pro (14-inch, M3)' },
  iOS: { manufacturer: 'Apple', model: 'iPhone 15' }, Android: { manufacturer: 'Google', model: 'Pixel 8' },
};
const PLATFORMS: SimDevice['operatingSystem'][] = ['Windows', 'macOS', 'iOS', 'Android'];

/** Built-in role templates (ids as in Graph), privileged as Microsoft labels them. */
export const BUILT_IN_ROLES: readonly SimRoleDefinition[] = [
  { id: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', privileged: true },
  { id: 'e8611ab8-c189-46e8-94e1-60213ab1f814', displayName: 'Privileged Role Administrator', privileged: true },
  { id: '194ae4cb-b126-40b2-bd5b-6091b380977d', displayName: 'Security Administrator', privileged: true },
  { id: 'fe930be7-5e62-47db-91af-98c3a49a38b1', displayName: 'User Administrator', privileged: true },
  { id: '4a5d8f65-41da-4de4-8968-e035b65339cf', displayName: 'Reports Reader', privileged: false },
  { id: '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b', displayName: 'Message Center Reader', privileged: false },
].map((role) => ({ ...role, templateId: role.id, isBuiltIn: true as const }));
const PRIVILEGED_ROLES = BUILT_IN_ROLES.filter((r) => r.privileged);
const READER_ROLES = BUILT_IN_ROLES.filter((r) => !r.privileged);

const STREAM = { users: 1, devices: 2, roles: 3 } as const;

export class GraphTenant {
  readonly users: SimUser[];
  readonly usersById: Map<string, SimUser>;
  readonly servicePrincipals: SimServicePrincipal[];
  readonly roleAssignments: SimRoleAssignment[];
  readonly devices: SimDevice[];
  securityDefaultsEnabled: boolean;

  constructor(
    seed: number,
    users: GraphUserOptions,
    devices: GraphDeviceOptions,
    readonly nowMs: number,
    readonly staleSignInDays: number,
    readonly staleSyncDays: number,
    readonly guestMaxAgeDays: number,
    public conditionalAccess: ConditionalAccessSetup,
    securityDefaults: boolean,
    readonly domain: string,
  ) {
    this.securityDefaultsEnabled = securityDefaults;
    this.users = this.generateUsers(seed, users);
    this.usersById = new Map(this.users.map((u) => [u.id, u]));
    const rng = Rng.forRecord(seed, STREAM.roles, 0);
    this.servicePrincipals = [{ id: rng.uuid(), displayName: 'Provisioning automation', appId: rng.uuid() }];
    this.roleAssignments = this.generateAssignments(rng);
    this.devices = this.generateDevices(seed, devices);
  }

  private generateUsers(seed: number, o: GraphUserOptions): SimUser[] {
    const total = o.total ?? 40;
    const counts = [o.disabled ?? 2, o.guests ?? 3, o.staleGuests ?? 1, o.staleSignIns ?? 2, o.neverSignedIn ?? 1, o.withoutMfa ?? 3, o.admins ?? 3, o.adminsWithoutMfa ?? 1];
    const labels = assignCategories(total, counts, new Rng(seed ^ 0x6a09e667));
    const staleMs = this.staleSignInDays * DAY_MS;
    const out: SimUser[] = [];
    for (let i = 0; i < total; i++) {
      const rng = Rng.forRecord(seed, STREAM.users, i);
      const category = USER_CATEGORY[labels[i] ?? 0] ?? 'member';
      const person = randomPerson(rng);
      const guest = category === 'guest' || category === 'staleGuest';
      const local = `${handleOf(person)}${i}`;
      // Recent and stale times stay two days clear of the threshold, so wall-clock checks agree with truth().
      const recent = this.nowMs - rng.int(1, staleMs - 2 * DAY_MS);
      const stale = this.nowMs - staleMs - rng.int(2 * DAY_MS, 400 * DAY_MS);
      const createdMs = category === 'staleGuest' ? this.nowMs - (this.guestMaxAgeDays + rng.int(2, 600)) * DAY_MS
        : category === 'guest' ? this.nowMs - rng.int(1, Math.max(2, this.guestMaxAgeDays - 2)) * DAY_MS
          : this.nowMs - rng.int(this.staleSignInDays + 2, 2000) * DAY_MS;
      let lastSignInMs: number | null = Math.max(createdMs + HOUR_MS, recent);
      if (category === 'staleSignIn' || category === 'staleGuest') lastSignInMs = Math.max(createdMs + HOUR_MS, stale);
      if (category === 'neverSignedIn') lastSignInMs = null;
      const noMfa = category === 'withoutMfa' || category === 'adminWithoutMfa';
      const methods = noMfa ? (rng.chance(0.5) ? ['email'] : []) : rng.pick([['microsoftAuthenticatorPush', 'softwareOneTimePasscode'], ['fido2'], ['windowsHelloForBusiness', 'microsoftAuthenticatorPush'], ['mobilePhone']]);
      out.push({
        id: rng.uuid(),
        userPrincipalName: guest ? `${local}_partner.example#EXT#@${this.domain}` : `${local}@${this.domain}`,
        displayName: `${person.firstName} ${person.lastName}`,
        mail: guest ? `${local}@partner.example` : `${local}@${this.domain}`,
        accountEnabled: category !== 'disabled',
        userType: guest ? 'Guest' : 'Member',
        createdMs,
        lastSignInMs,
        lastNonInteractiveSignInMs: lastSignInMs === null ? null : lastSignInMs - rng.int(0, 3) * HOUR_MS,
        methods,
        isAdmin: category === 'admin' || category === 'adminWithoutMfa',
        category,
      });
    }
    return out;
  }

  private generateAssignments(rng: Rng): SimRoleAssignment[] {
    const assignments: SimRoleAssignment[] = [];
    const add = (role: SimRoleDefinition, principalId: string, principalType: SimRoleAssignment['principalType']) =>
      assignments.push({ id: `${rng.hex(8)}-${rng.hex(4)}`, roleDefinitionId: role.id, principalId, principalType, directoryScopeId: '/' });
    let n = 0;
    for (const user of this.users) if (user.isAdmin) add(PRIVILEGED_ROLES[n++ % PRIVILEGED_ROLES.length]!, user.id, 'user');
    // Readers hold non-privileged roles (their MFA is not the privileged-role rule's business).
    let r = 0;
    for (const user of this.users) {
      if (user.category !== 'withoutMfa' || r >= READER_ROLES.length) continue;
      add(READER_ROLES[r++]!, user.id, 'user');
    }
    // An automation's service principal with a privileged role: no MFA to speak of.
    add(PRIVILEGED_ROLES[3]!, this.servicePrincipals[0]!.id, 'servicePrincipal');
    return assignments;
  }

  private generateDevices(seed: number, o: GraphDeviceOptions): SimDevice[] {
    const total = o.total ?? 30;
    const counts = [o.noncompliant ?? 2, o.unencrypted ?? 1, o.staleSync ?? 1, o.outdatedOs ?? 1];
    const labels = assignCategories(total, counts, new Rng(seed ^ 0xbb67ae85));
    const kinds = ['ok', 'noncompliant', 'unencrypted', 'staleSync', 'outdatedOs'] as const;
    const members = this.users.filter((u) => u.userType === 'Member');
    const out: SimDevice[] = [];
    for (let i = 0; i < total; i++) {
      const rng = Rng.forRecord(seed, STREAM.devices, i);
      const category = kinds[labels[i] ?? 0] ?? 'ok';
      const os = PLATFORMS[i % PLATFORMS.length]!;
      const owner = members.length > 0 ? members[i % members.length]! : undefined;
      const staleMs = this.staleSyncDays * DAY_MS;
      out.push({
        id: rng.uuid(),
        deviceName: `${os === 'Windows' ? 'DESKTOP' : os === 'macOS' ? 'MAC' : 'MOBILE'}-${rng.chars(7, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789')}`,
        operatingSystem: os,
        osVersion: rng.pick(category === 'outdatedOs' ? OUTDATED_OS[os] : CURRENT_OS[os]),
        complianceState: category === 'noncompliant' || category === 'unencrypted' ? 'noncompliant' : 'compliant',
        isEncrypted: category !== 'unencrypted',
        lastSyncMs: category === 'staleSync' ? this.nowMs - staleMs - rng.int(2, 120) * DAY_MS : this.nowMs - rng.int(HOUR_MS, staleMs - 2 * DAY_MS),
        enrolledMs: this.nowMs - rng.int(200, 900) * DAY_MS,
        managedDeviceOwnerType: os === 'Android' && rng.chance(0.5) ? 'personal' : 'company',
        userPrincipalName: owner?.userPrincipalName ?? '',
        ...HARDWARE[os],
        serialNumber: rng.chars(12, 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789'),
        azureADDeviceId: rng.uuid(),
        category,
      });
    }
    return out;
  }

  /** Whether a user registered a method that counts for MFA (email and security questions are SSPR-only). */
  static mfaRegistered(user: SimUser): boolean {
    return user.methods.some((m) => m !== 'email' && m !== 'securityQuestion');
  }

  // --- Graph resources -------------------------------------------------------------------------

  userResource(user: SimUser): Record<string, unknown> {
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      mail: user.mail,
      accountEnabled: user.accountEnabled,
      userType: user.userType,
      createdDateTime: iso(user.createdMs).replace(/\.\d{3}Z$/, 'Z'),
      signInActivity: {
        lastSignInDateTime: user.lastSignInMs === null ? null : iso(user.lastSignInMs),
        lastSignInRequestId: user.lastSignInMs === null ? null : `${user.id.slice(0, 8)}-sign-in`,
        lastNonInteractiveSignInDateTime: user.lastNonInteractiveSignInMs === null ? null : iso(user.lastNonInteractiveSignInMs),
        lastNonInteractiveSignInRequestId: null,
      },
    };
  }

  registrationResource(user: SimUser): Record<string, unknown> {
    const mfa = GraphTenant.mfaRegistered(user);
    return {
      id: user.id,
      userPrincipalName: user.userPrincipalName,
      userDisplayName: user.displayName,
      userType: user.userType === 'Guest' ? 'guest' : 'member',
      isAdmin: user.isAdmin,
      isSsprRegistered: user.methods.length > 0,
      isSsprEnabled: true,
      isSsprCapable: user.methods.length > 0,
      isMfaRegistered: mfa,
      isMfaCapable: mfa,
      isPasswordlessCapable: user.methods.includes('fido2') || user.methods.includes('windowsHelloForBusiness'),
      methodsRegistered: [...user.methods],
      isSystemPreferredAuthenticationMethodEnabled: true,
      systemPreferredAuthenticationMethods: mfa ? [user.methods[0]] : [],
      userPreferredMethodForSecondaryAuthentication: mfa ? 'push' : 'none',
      lastUpdatedDateTime: iso(this.nowMs - DAY_MS),
    };
  }

  roleDefinitionResource(role: SimRoleDefinition): Record<string, unknown> {
    return { id: role.id, description: `${role.displayName} (built-in role)`, displayName: role.displayName, isBuiltIn: true, isEnabled: true, templateId: role.templateId, version: '1' };
  }

  roleAssignmentResource(a: SimRoleAssignment, expandPrincipal: boolean): Record<string, unknown> {
    const resource: Record<string, unknown> = { id: a.id, roleDefinitionId: a.roleDefinitionId, principalId: a.principalId, directoryScopeId: a.directoryScopeId };
    if (expandPrincipal) {
      if (a.principalType === 'user') {
        const user = this.usersById.get(a.principalId)!;
        resource.principal = { '@odata.type': '#microsoft.graph.user', id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, accountEnabled: user.accountEnabled };
      } else {
        const sp = this.servicePrincipals.find((s) => s.id === a.principalId)!;
        resource.principal = { '@odata.type': '#microsoft.graph.servicePrincipal', id: sp.id, displayName: sp.displayName, appId: sp.appId, accountEnabled: true };
      }
    }
    return resource;
  }

  conditionalAccessPolicies(): Record<string, unknown>[] {
    const at = iso(this.nowMs - 120 * DAY_MS);
    const policy = (id: string, displayName: string, state: string, users: Record<string, string[]>, controls: string[]) => ({
      id, templateId: null, displayName, createdDateTime: at, modifiedDateTime: at, state, sessionControls: null,
      conditions: {
        userRiskLevels: [], signInRiskLevels: [], clientAppTypes: ['all'], platforms: null, locations: null,
        applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [] },
        users: { includeUsers: [], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], ...users },
      },
      grantControls: { operator: 'OR', builtInControls: controls, customAuthenticationFactors: [], termsOfUse: [], authenticationStrength: null },
    });
    const breakGlass = this.users.find((u) => u.isAdmin)?.id;
    const policies = [
      policy('6b9e2b1c-0d1a-4d8e-9a43-2f4b0c3e7a01', 'Require MFA for administrators', 'enabled', { includeRoles: PRIVILEGED_ROLES.map((r) => r.id) }, ['mfa']),
      policy('0f7a4c2e-5b3d-4e9f-8c21-7d6a5b4c3e02', 'Block legacy authentication', 'enabled', { includeUsers: ['All'] }, ['block']),
    ];
    if (this.conditionalAccess !== 'none') {
      policies.push(policy('a1c3e5f7-2b4d-4f6a-8c0e-1d3f5a7c9e03', 'Require MFA for all users', this.conditionalAccess === 'enforced' ? 'enabled' : 'enabledForReportingButNotEnforced',
        { includeUsers: ['All'], excludeUsers: breakGlass ? [breakGlass] : [] }, ['mfa']));
    }
    return policies;
  }

  securityDefaultsResource(): Record<string, unknown> {
    return {
      id: '00000000-0000-0000-0000-000000000005',
      displayName: 'Security Defaults',
      description: 'Security defaults is a set of basic identity security mechanisms recommended by Microsoft.',
      isEnabled: this.securityDefaultsEnabled,
    };
  }

  deviceResource(d: SimDevice): Record<string, unknown> {
    return {
      id: d.id, userId: null, deviceName: d.deviceName, managedDeviceOwnerType: d.managedDeviceOwnerType, enrolledDateTime: iso(d.enrolledMs).replace(/\.\d{3}Z$/, 'Z'),
      lastSyncDateTime: iso(d.lastSyncMs).replace(/\.\d{3}Z$/, 'Z'), operatingSystem: d.operatingSystem, complianceState: d.complianceState, jailBroken: 'False',
      managementAgent: 'mdm', osVersion: d.osVersion, easActivated: false, azureADRegistered: true, deviceEnrollmentType: 'windowsAzureADJoin',
      emailAddress: d.userPrincipalName, azureADDeviceId: d.azureADDeviceId, deviceRegistrationState: 'registered', isSupervised: d.operatingSystem === 'iOS',
      isEncrypted: d.isEncrypted, userPrincipalName: d.userPrincipalName, model: d.model, manufacturer: d.manufacturer, serialNumber: d.serialNumber,
      userDisplayName: this.users.find((u) => u.userPrincipalName === d.userPrincipalName)?.displayName ?? null, managedDeviceName: `${d.userPrincipalName}_${d.operatingSystem}`,
    };
  }

  compliancePolicies(): Record<string, unknown>[] {
    const at = iso(this.nowMs - 300 * DAY_MS);
    const base = (type: string, id: string, displayName: string, settings: Record<string, unknown>, assigned: boolean) => ({
      '@odata.type': `#microsoft.graph.${type}`, id, createdDateTime: at, lastModifiedDateTime: at, displayName, description: '', version: 3, ...settings,
      assignments: assigned ? [{ id: `${id}_adadadad-808e-44e2-905a-0b7873a8a531`, target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }] : [],
    });
    return [
      base('windows10CompliancePolicy', 'c0a1b2c3-0001-4000-8000-000000000001', 'Windows baseline', { passwordRequired: true, bitLockerEnabled: true, secureBootEnabled: true, osMinimumVersion: MINIMUM_OS.Windows }, true),
      base('macOSCompliancePolicy', 'c0a1b2c3-0002-4000-8000-000000000002', 'macOS baseline', { passwordRequired: true, storageRequireEncryption: true, osMinimumVersion: MINIMUM_OS.macOS }, true),
      base('iosCompliancePolicy', 'c0a1b2c3-0003-4000-8000-000000000003', 'iOS baseline', { passcodeRequired: true, osMinimumVersion: MINIMUM_OS.iOS }, true),
      base('androidWorkProfileCompliancePolicy', 'c0a1b2c3-0004-4000-8000-000000000004', 'Android work profile', { passwordRequired: true, storageRequireEncryption: true, osMinimumVersion: MINIMUM_OS.Android }, false),
    ];
  }
}
