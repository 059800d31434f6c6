// A simulator of the Okta Management API (the parts a compliance connector
// reads), written from Okta's public API reference: Users (list with Link
// pagination, get, factors, role assignments), Policies (PASSWORD), the
// System Log, the Org, SSWS API tokens, OAuth 2.0 service apps
// (client_credentials + private_key_jwt) and Okta's rate-limit headers.

import { seedToInt } from './common/random.js';
import { startSimulatorServer, type SimulatorServer } from './common/server.js';
import type { RateLimitOptions } from './common/rate-limit.js';
import { DAY_MS, iso, referenceTime } from './common/time.js';
import { oktaApi } from './okta/api.js';
import { hasActiveFactor, OKTA_USER_STATUSES, OktaDirectory, resolvePopulation, type OktaAdminRole, type OktaPopulationOptions, type OktaUserStatus } from './okta/directory.js';
import { OktaAuthorizationServer, TOKEN_PATH, type OktaServiceApp } from './okta/oauth.js';
import { DEFAULT_PASSWORD_SETTINGS, type OktaPasswordSettings } from './okta/resources.js';
import { OktaSystemLog } from './okta/system-log.js';

export type { OktaServiceApp } from './okta/oauth.js';
export type { OktaPopulationOptions, OktaUserFacts, OktaUserStatus, OktaAdminRole, OktaFactorType } from './okta/directory.js';
export type { OktaPasswordSettings } from './okta/resources.js';
export { CLIENT_ASSERTION_TYPE } from './okta/oauth.js';

export interface OktaSimulatorOptions {
  /** Seed of all generated data (default 1). */
  seed?: number | string;
  /** The data's "now": last logins and log events are placed relative to it (default: start of the current UTC day). */
  now?: Date | number;
  /** A last login older than this many days is stale (default 90, at least 3). */
  staleLoginDays?: number;
  population?: OktaPopulationOptions;
  /** System Log events (default 200), spread over the `logSpanDays` (default 30) before `now`. */
  logEvents?: number;
  logSpanDays?: number;
  /** Overrides of the Default password policy's settings. */
  passwordPolicy?: Partial<OktaPasswordSettings>;
  /** The SSWS API token accepted (default `sim-okta-ssws-token`); it belongs to the SUPER_ADMIN. */
  apiToken?: string;
  /** Service apps allowed to use OAuth 2.0 client credentials with private_key_jwt. */
  serviceApps?: readonly OktaServiceApp[];
  /** Lifetime of issued access tokens (default 3600, Okta's). */
  accessTokenTtlSeconds?: number;
  /**
   * Enforced per-endpoint limit, reported on every response in X-Rate-Limit-*
   * (default 600 requests per 60 s, Okta's usual /api/v1/users limit);
   * `false` turns limiting and the headers off.
   */
  rateLimit?: RateLimitOptions | false;
  /** Makes every `next` link point at this origin instead of the simulator's, to test that a connector refuses to follow it. */
  nextLinkOrigin?: string;
  orgName?: string;
  /** Domain of generated logins (default `example.com`). */
  emailDomain?: string;
  port?: number;
  clock?: () => number;
}

/** Normalised facts a connector's output can be checked against. */
export interface OktaTruth {
  now: string;
  staleLoginDays: number;
  users: { total: number; listedByDefault: number; byStatus: Record<OktaUserStatus, number> };
  /** ACTIVE users only. MFA means at least one factor in status ACTIVE. */
  activeUsers: { total: number; withoutMfa: number; staleLogin: number; neverLoggedIn: number };
  /** ACTIVE users holding at least one admin role. */
  admins: { total: number; withoutMfa: number; idsWithoutMfa: string[]; byRole: Record<OktaAdminRole, number> };
  passwordPolicy: OktaPasswordSettings;
  systemLog: { events: number; byEventType: Record<string, number> };
}

export interface OktaSimulator extends SimulatorServer {
  readonly tokenUrl: string;
  readonly apiToken: string;
  readonly state: {
    readonly directory: OktaDirectory;
    readonly systemLog: OktaSystemLog;
    readonly oauth: OktaAuthorizationServer;
    readonly passwordPolicy: OktaPasswordSettings;
  };
  truth(): OktaTruth;
  /** An admin without MFA enrols a factor. */
  enrolMfa(userId: string): void;
}

/** Okta's usual limit for /api/v1/users. */
const DEFAULT_RATE_LIMIT: RateLimitOptions = { limit: 600, windowMs: 60_000 };

export async function startOktaSimulator(options: OktaSimulatorOptions = {}): Promise<OktaSimulator> {
  const seed = seedToInt(options.seed ?? 1);
  const nowMs = referenceTime(options.now);
  const staleLoginDays = options.staleLoginDays ?? 90;
  if (!Number.isInteger(staleLoginDays) || staleLoginDays < 3) throw new RangeError(`staleLoginDays must be an integer ≥ 3, got ${staleLoginDays}`);
  const population = resolvePopulation(options.population);
  if (population.total < 1) throw new RangeError('an Okta org needs at least one user');
  const clock = options.clock ?? Date.now;
  const apiToken = options.apiToken ?? 'sim-okta-ssws-token';
  const passwordPolicy = { ...DEFAULT_PASSWORD_SETTINGS, ...options.passwordPolicy };

  const directory = new OktaDirectory(seed, population, nowMs, staleLoginDays, options.emailDomain ?? 'example.com');
  const systemLog = new OktaSystemLog(seed, directory, options.logEvents ?? 200, options.logSpanDays ?? 30);
  const oauth = new OktaAuthorizationServer(options.serviceApps ?? [], options.accessTokenTtlSeconds ?? 3600, clock);

  const rateLimit = options.rateLimit === false ? undefined : (options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const api = oktaApi({ directory, systemLog, oauth, passwordPolicy, orgName: options.orgName ?? 'Simulated Org', orgCreatedMs: nowMs - 1500 * DAY_MS, apiToken, nextLinkOrigin: options.nextLinkOrigin, clock });
  const server = await startSimulatorServer(api, { port: options.port, clock, rateLimit });

  let truth: OktaTruth | undefined;
  return {
    ...server,
    tokenUrl: `${server.url}${TOKEN_PATH}`,
    apiToken,
    state: { directory, systemLog, oauth, passwordPolicy },
    truth: () => (truth ??= computeTruth(directory, systemLog, passwordPolicy)),
    enrolMfa: (userId: string) => {
      directory.enrolMfa(userId);
      truth = undefined;
    },
  };
}

function computeTruth(directory: OktaDirectory, systemLog: OktaSystemLog, passwordPolicy: OktaPasswordSettings): OktaTruth {
  const byStatus = Object.fromEntries(OKTA_USER_STATUSES.map((status) => [status, 0])) as Record<OktaUserStatus, number>;
  const byRole: Record<OktaAdminRole, number> = { SUPER_ADMIN: 0, ORG_ADMIN: 0, APP_ADMIN: 0, USER_ADMIN: 0, HELP_DESK_ADMIN: 0, READ_ONLY_ADMIN: 0 };
  const activeUsers = { total: 0, withoutMfa: 0, staleLogin: 0, neverLoggedIn: 0 };
  const admins = { total: 0, withoutMfa: 0, idsWithoutMfa: [] as string[], byRole };
  const staleBeforeMs = directory.nowMs - directory.staleLoginDays * DAY_MS;
  for (const user of directory.users()) {
    byStatus[user.status] += 1;
    if (user.status !== 'ACTIVE') continue;
    const mfa = hasActiveFactor(user);
    activeUsers.total += 1;
    if (!mfa) activeUsers.withoutMfa += 1;
    if (user.lastLoginMs === null) activeUsers.neverLoggedIn += 1;
    else if (user.lastLoginMs < staleBeforeMs) activeUsers.staleLogin += 1;
    if (user.roles.length === 0) continue;
    admins.total += 1;
    for (const role of user.roles) byRole[role.type] += 1;
    if (!mfa) {
      admins.withoutMfa += 1;
      admins.idsWithoutMfa.push(user.id);
    }
  }
  return {
    now: iso(directory.nowMs),
    staleLoginDays: directory.staleLoginDays,
    users: { total: directory.size, listedByDefault: directory.size - byStatus.DEPROVISIONED, byStatus },
    activeUsers,
    admins,
    passwordPolicy,
    systemLog: { events: systemLog.size, byEventType: systemLog.countByEventType() },
  };
}
