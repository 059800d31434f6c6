// A simulator of Microsoft Graph and the Microsoft identity platform's token
// endpoint (the parts the entra and intune connectors read), written from
// Microsoft's public Graph v1.0 reference, its throttling guidance and the
// identity platform's client-credentials and certificate-credentials pages.
// One origin serves both: the authority (`/{tenant}/oauth2/v2.0/token`) and
// Graph (`/v1.0/…`, `/beta/…`).

import { seedToInt } from './common/random.js';
import { startSimulatorServer, type SimulatorServer } from './common/server.js';
import type { RateLimitOptions } from './common/rate-limit.js';
import { DAY_MS, iso, referenceTime } from './common/time.js';
import { graphApi, type GraphApiState, type GraphLicences } from './graph/api.js';
import { GraphTokenIssuer, type GraphApp } from './graph/oauth.js';
import { GraphTenant, MINIMUM_OS, type ConditionalAccessSetup, type GraphDeviceOptions, type GraphUserOptions } from './graph/tenant.js';

export type { GraphApp, GraphAppCertificate } from './graph/oauth.js';
export type { GraphUserOptions, GraphDeviceOptions, ConditionalAccessSetup } from './graph/tenant.js';
export type { GraphLicences } from './graph/api.js';
export { CLIENT_ASSERTION_TYPE as GRAPH_CLIENT_ASSERTION_TYPE } from './graph/oauth.js';

/** Every application permission the entra and intune connectors use. */
export const GRAPH_PERMISSIONS = [
  'User.Read.All', 'AuditLog.Read.All', 'Policy.Read.All', 'RoleManagement.Read.Directory',
  'DeviceManagementManagedDevices.Read.All', 'DeviceManagementConfiguration.Read.All',
] as const;

export interface GraphSimulatorOptions {
  seed?: number | string;
  /** The data's "now" (default: start of the current UTC day). */
  now?: Date | number;
  /** Tenant id (default a fixed GUID) and its initial domain (default `simcorp.onmicrosoft.com`). */
  tenantId?: string;
  domain?: string;
  users?: GraphUserOptions;
  devices?: GraphDeviceOptions;
  /** A sign-in older than this many days is stale (default 90). */
  staleSignInDays?: number;
  /** A device sync older than this many days is stale (default 30). */
  staleSyncDays?: number;
  /** Stale guests were invited more than this many days ago (default 180). */
  guestMaxAgeDays?: number;
  /** `enforced` (default): an enabled "Require MFA for all users" policy; `reportOnly`: the same in report-only; `none`. */
  conditionalAccess?: ConditionalAccessSetup;
  securityDefaults?: boolean;
  licences?: Partial<GraphLicences>;
  /** App registrations (default one: `sim-graph-client` / `sim-graph-secret` with GRAPH_PERMISSIONS). */
  apps?: readonly GraphApp[];
  /** Access token lifetime (default 3599 s, as the platform issues). */
  accessTokenTtlSeconds?: number;
  /** Server page size when no $top is given (default 100) and the largest $top (999). */
  defaultPageSize?: number;
  maxPageSize?: number;
  /** Enforced limit per service bucket (users, reports, deviceManagement…, token); 429 with Retry-After, no window headers. Default none. */
  rateLimit?: RateLimitOptions;
  port?: number;
  clock?: () => number;
}

export interface GraphTruth {
  now: string;
  staleSignInDays: number;
  staleSyncDays: number;
  users: { total: number; enabled: number; disabled: number; guests: number };
  /** Enabled members: total, without MFA registered, stale or never signed in. */
  enabledMembers: { total: number; withoutMfa: number; idsWithoutMfa: string[] };
  /** Enabled accounts (members and guests) inactive beyond staleSignInDays (never signed in counts from creation). */
  inactiveEnabled: { total: number; ids: string[] };
  enabledGuests: { total: number; staleIds: string[] };
  /** Privileged directory role assignments held by users. */
  privilegedUsers: { total: number; withoutMfa: number; idsWithoutMfa: string[] };
  conditionalAccess: { policies: number; mfaForAllUsersEnforced: boolean };
  securityDefaultsEnabled: boolean;
  mfaEnforcedForAllUsers: boolean;
  devices: { total: number; noncompliant: number; unencrypted: number; staleSync: number; outdatedOs: number; ids: { noncompliant: string[]; unencrypted: string[]; staleSync: string[]; outdatedOs: string[] } };
  minimumOs: Record<string, string>;
  compliancePolicies: number;
}

export interface GraphSimulator extends SimulatorServer {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `{url}/{tenantId}/oauth2/v2.0/token`. */
  readonly tokenUrl: string;
  readonly tokensIssued: number;
  readonly state: { readonly tenant: GraphTenant; readonly issuer: GraphTokenIssuer; readonly api: GraphApiState };
  /** Every token issued so far expires after `afterRequests` more Graph requests (default 0: now). */
  expireTokens(afterRequests?: number): void;
  /** Turns a licence on or off. */
  setLicence(licence: keyof GraphLicences, on: boolean): void;
  truth(): GraphTruth;
}

export async function startGraphSimulator(options: GraphSimulatorOptions = {}): Promise<GraphSimulator> {
  const seed = seedToInt(options.seed ?? 1);
  const clock = options.clock ?? Date.now;
  const tenantId = options.tenantId ?? '8f3c2a1e-5d4b-4c6a-9e7f-0a1b2c3d4e5f';
  const domain = options.domain ?? 'simcorp.onmicrosoft.com';
  const staleSignInDays = options.staleSignInDays ?? 90;
  const staleSyncDays = options.staleSyncDays ?? 30;
  for (const [name, v] of Object.entries({ staleSignInDays, staleSyncDays })) if (!Number.isInteger(v) || v < 3) throw new RangeError(`${name} must be an integer ≥ 3, got ${v}`);
  const tenant = new GraphTenant(seed, options.users ?? {}, options.devices ?? {}, referenceTime(options.now), staleSignInDays, staleSyncDays, options.guestMaxAgeDays ?? 180,
    options.conditionalAccess ?? 'enforced', options.securityDefaults ?? false, domain);
  const apps = options.apps ?? [{ clientId: 'sim-graph-client', clientSecret: 'sim-graph-secret', permissions: GRAPH_PERMISSIONS }];
  const first = apps[0];
  if (!first) throw new RangeError('at least one app registration is needed');
  const issuer = new GraphTokenIssuer(apps, tenantId, domain, options.accessTokenTtlSeconds ?? 3599, clock);
  const api: GraphApiState = {
    tenant, issuer,
    licences: { entraPremium: true, intune: true, ...options.licences },
    defaultPageSize: options.defaultPageSize ?? 100,
    maxPageSize: options.maxPageSize ?? 999,
    expireTokensAfter: null,
  };
  const server = await startSimulatorServer(graphApi(api), { port: options.port, clock, rateLimit: options.rateLimit });
  return {
    ...server,
    tenantId,
    clientId: first.clientId,
    clientSecret: first.clientSecret ?? '',
    tokenUrl: `${server.url}/${tenantId}/oauth2/v2.0/token`,
    get tokensIssued() {
      return issuer.tokensIssued;
    },
    state: { tenant, issuer, api },
    expireTokens: (afterRequests = 0) => {
      if (afterRequests === 0) issuer.expireAll();
      else api.expireTokensAfter = { remaining: afterRequests };
    },
    setLicence: (licence, on) => {
      api.licences[licence] = on;
    },
    truth: () => computeTruth(tenant),
  };
}

function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function computeTruth(tenant: GraphTenant): GraphTruth {
  const staleBefore = tenant.nowMs - tenant.staleSignInDays * DAY_MS;
  const enabled = tenant.users.filter((u) => u.accountEnabled);
  const members = enabled.filter((u) => u.userType === 'Member');
  const withoutMfa = members.filter((u) => !GraphTenant.mfaRegistered(u));
  const inactive = enabled.filter((u) => (u.lastSignInMs ?? u.createdMs) < staleBefore);
  const guests = enabled.filter((u) => u.userType === 'Guest');
  const privileged = new Set(['62e90394-69f5-4237-9190-012177145e10', 'e8611ab8-c189-46e8-94e1-60213ab1f814', '194ae4cb-b126-40b2-bd5b-6091b380977d', 'fe930be7-5e62-47db-91af-98c3a49a38b1']);
  const privilegedUsers = tenant.roleAssignments.filter((a) => a.principalType === 'user' && privileged.has(a.roleDefinitionId)).map((a) => tenant.usersById.get(a.principalId)!);
  const noMfaAdmins = privilegedUsers.filter((u) => !GraphTenant.mfaRegistered(u));
  const policies = tenant.conditionalAccessPolicies();
  const caMfa = tenant.conditionalAccess === 'enforced';
  const syncBefore = tenant.nowMs - tenant.staleSyncDays * DAY_MS;
  const devices = tenant.devices;
  const ids = {
    noncompliant: devices.filter((d) => d.complianceState !== 'compliant').map((d) => d.id),
    unencrypted: devices.filter((d) => !d.isEncrypted).map((d) => d.id),
    staleSync: devices.filter((d) => d.lastSyncMs < syncBefore).map((d) => d.id),
    outdatedOs: devices.filter((d) => !versionAtLeast(d.osVersion, MINIMUM_OS[d.operatingSystem])).map((d) => d.id),
  };
  return {
    now: iso(tenant.nowMs),
    staleSignInDays: tenant.staleSignInDays,
    staleSyncDays: tenant.staleSyncDays,
    users: { total: tenant.users.length, enabled: enabled.length, disabled: tenant.users.length - enabled.length, guests: tenant.users.filter((u) => u.userType === 'Guest').length },
    enabledMembers: { total: members.length, withoutMfa: withoutMfa.length, idsWithoutMfa: withoutMfa.map((u) => u.id) },
    inactiveEnabled: { total: inactive.length, ids: inactive.map((u) => u.id) },
    enabledGuests: { total: guests.length, staleIds: guests.filter((u) => u.category === 'staleGuest').map((u) => u.id) },
    privilegedUsers: { total: privilegedUsers.length, withoutMfa: noMfaAdmins.length, idsWithoutMfa: noMfaAdmins.map((u) => u.id) },
    conditionalAccess: { policies: policies.length, mfaForAllUsersEnforced: caMfa },
    securityDefaultsEnabled: tenant.securityDefaultsEnabled,
    mfaEnforcedForAllUsers: caMfa || tenant.securityDefaultsEnabled,
    devices: { total: devices.length, noncompliant: ids.noncompliant.length, unencrypted: ids.unencrypted.length, staleSync: ids.staleSync.length, outdatedOs: ids.outdatedOs.length, ids },
    minimumOs: { ...MINIMUM_OS },
    compliancePolicies: tenant.compliancePolicies().length,
  };
}
