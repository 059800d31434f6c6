// A simulator of GitHub's REST API (the parts the github connector reads),
// written from GitHub's public REST reference: organizations, members and
// outside collaborators (filter=2fa_disabled for owners), repositories, branch
// protection, rules for a branch (rulesets), organization Dependabot and
// secret-scanning alerts, GitHub App installation tokens, rate-limit headers
// and secondary limits. See README.md in this folder.

import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { seedToInt } from './common/random.js';
import type { RateLimitOptions } from './common/rate-limit.js';
import { startSimulatorServer, type SimulatorServer } from './common/server.js';
import { DAY_MS, iso, referenceTime } from './common/time.js';
import { githubApi, type GitHubApiState } from './github/api.js';
import { ALL_PERMISSIONS, GitHubCredentials, type GitHubAppRegistration, type GitHubPermission, type GitHubTokenRegistration } from './github/auth.js';
import { GitHubOrgData, type GitHubPopulationOptions } from './github/org.js';

export type { GitHubPopulationOptions } from './github/org.js';
export type { GitHubAppRegistration, GitHubInstallation, GitHubPermission, GitHubTokenRegistration } from './github/auth.js';
export { ALL_PERMISSIONS as GITHUB_PERMISSIONS } from './github/auth.js';

export interface GitHubSimulatorOptions {
  seed?: number | string;
  now?: Date | number;
  /** Organization login (default `simcorp`). */
  org?: string;
  population?: GitHubPopulationOptions;
  /** The organization requires 2FA (default true). */
  twoFactorRequired?: boolean;
  /** Stale Dependabot alerts are older than this (default 30 days). */
  alertMaxAgeDays?: number;
  /**
   * GitHub Apps. Default: one App (id 1001, a key pair made at start, `sim.appPrivateKey`) with
   * installation 2002 granted every permission (an owner's view) and installation 2003
   * granted every permission but organization_administration (not an owner).
   */
  apps?: readonly GitHubAppRegistration[];
  /** Fine-grained tokens. Default: `sim.token` (an owner's, every permission) and `sim.nonOwnerToken`. */
  tokens?: readonly GitHubTokenRegistration[];
  /** Installation token lifetime (default 3600 s, as GitHub issues them). */
  installationTokenTtlSeconds?: number;
  /** The primary limit per bucket (core, app). Default 5 000 an hour; false: none, no headers. */
  rateLimit?: RateLimitOptions | false;
  /** The organization's plan (default enterprise). `free`: private repositories have no branch protection or rulesets; reading protection is 403 "Upgrade to GitHub Pro…". */
  plan?: 'free' | 'team' | 'enterprise';
  /** '/api/v3' to serve as GitHub Enterprise Server does (default '': github.com). */
  pathPrefix?: string;
  port?: number;
  clock?: () => number;
}

export interface GitHubTruth {
  now: string;
  org: string;
  twoFactorRequired: boolean;
  alertMaxAgeDays: number;
  members: { total: number; owners: string[]; without2fa: string[] };
  outsideCollaborators: { total: number; without2fa: string[] };
  repositories: { total: number; archived: number; active: number; byBranchProtection: number; byRuleset: number; activeWithoutReviews: string[] };
  dependabot: { open: number; openCriticalOrHigh: number; staleCriticalOrHigh: string[] };
  secretScanning: { open: number; openIds: string[]; secrets: string[] };
}

export interface GitHubSimulator extends SimulatorServer {
  /** The API base a connection's api_url names (the origin, or origin + '/api/v3'). */
  readonly apiUrl: string;
  readonly org: string;
  readonly appId: number;
  readonly installationId: number;
  readonly nonOwnerInstallationId: number;
  /** PEM of the default App's private key. */
  readonly appPrivateKey: string;
  readonly token: string;
  readonly nonOwnerToken: string;
  readonly tokensIssued: number;
  readonly state: { readonly org: GitHubOrgData; readonly api: GitHubApiState };
  /** Every installation token issued so far expires after `afterRequests` more API requests (0: now). */
  expireTokens(afterRequests?: number): void;
  /** The next `times` requests (to `path`) get a secondary limit: 403 (or 429) with retry-after (null: none). */
  secondaryRateLimit(options?: { retryAfterSeconds?: number | null; status?: 403 | 429; times?: number; path?: string }): void;
  truth(): GitHubTruth;
}

let defaultKeys: { publicKey: KeyObject; pem: string } | undefined;
function appKeys() {
  if (!defaultKeys) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    defaultKeys = { publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }
  return defaultKeys;
}

export async function startGitHubSimulator(options: GitHubSimulatorOptions = {}): Promise<GitHubSimulator> {
  const seed = seedToInt(options.seed ?? 1);
  const clock = options.clock ?? Date.now;
  const login = options.org ?? 'simcorp';
  const alertMaxAgeDays = options.alertMaxAgeDays ?? 30;
  if (!Number.isInteger(alertMaxAgeDays) || alertMaxAgeDays < 3) throw new RangeError(`alertMaxAgeDays must be an integer ≥ 3, got ${alertMaxAgeDays}`);
  const org = new GitHubOrgData(seed, login, referenceTime(options.now), options.twoFactorRequired ?? true, alertMaxAgeDays, options.population ?? {});
  const keys = appKeys();
  const withoutAdmin: GitHubPermission[] = ALL_PERMISSIONS.filter((p) => p !== 'organization_administration');
  const apps = options.apps ?? [{ appId: 1001, publicKey: keys.publicKey, installations: [{ id: 2002 }, { id: 2003, permissions: withoutAdmin }] }];
  const token = 'github_pat_11SIMOWNER0000000000_simulatedOwnerTokenValue0000000000000000000';
  const nonOwnerToken = 'github_pat_11SIMMEMBER000000000_simulatedMemberTokenValue000000000000000000';
  const tokens = options.tokens ?? [{ token, owner: true }, { token: nonOwnerToken, owner: false }];
  const credentials = new GitHubCredentials(apps, tokens, options.installationTokenTtlSeconds ?? 3600, clock);
  const pathPrefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  const api: GitHubApiState = { org, credentials, pathPrefix, expireTokensAfter: null, secondary: [], plan: options.plan ?? 'enterprise' };
  const rateLimit = options.rateLimit === false ? undefined : (options.rateLimit ?? { limit: 5_000, windowMs: 3_600_000 });
  const server = await startSimulatorServer(githubApi(api), { port: options.port, clock, rateLimit });
  const firstApp = apps[0];
  return {
    ...server,
    apiUrl: server.url + pathPrefix,
    org: login,
    appId: firstApp?.appId ?? 0,
    installationId: firstApp?.installations[0]?.id ?? 0,
    nonOwnerInstallationId: firstApp?.installations[1]?.id ?? 0,
    appPrivateKey: keys.pem,
    token: tokens[0]?.token ?? '',
    nonOwnerToken: tokens[1]?.token ?? '',
    get tokensIssued() {
      return credentials.tokensIssued;
    },
    state: { org, api },
    expireTokens: (afterRequests = 0) => {
      if (afterRequests === 0) credentials.expireAll();
      else api.expireTokensAfter = { remaining: afterRequests };
    },
    secondaryRateLimit: ({ retryAfterSeconds = 1, status = 403, times = 1, path } = {}) => {
      api.secondary.push({ retryAfterSeconds, status, remaining: times, path });
    },
    truth: () => computeTruth(org, api.plan),
  };
}

function computeTruth(org: GitHubOrgData, plan: GitHubApiState['plan']): GitHubTruth {
  const active = org.repositories.filter((r) => !r.archived);
  const openAlerts = org.dependabot.filter((a) => a.state === 'open');
  const serious = openAlerts.filter((a) => a.severity === 'critical' || a.severity === 'high');
  const staleBefore = org.nowMs - org.alertMaxAgeDays * DAY_MS;
  const openSecrets = org.secrets.filter((a) => a.state === 'open');
  return {
    now: iso(org.nowMs),
    org: org.login,
    twoFactorRequired: org.twoFactorRequired,
    alertMaxAgeDays: org.alertMaxAgeDays,
    members: { total: org.members.length, owners: org.members.filter((m) => m.role === 'admin').map((m) => m.login), without2fa: org.members.filter((m) => !m.twoFactor).map((m) => m.login) },
    outsideCollaborators: { total: org.collaborators.length, without2fa: org.collaborators.filter((c) => !c.twoFactor).map((c) => c.login) },
    repositories: {
      total: org.repositories.length, archived: org.repositories.length - active.length, active: active.length,
      byBranchProtection: active.filter((r) => r.protection === 'reviews' && (plan !== 'free' || r.visibility === 'public')).length,
      byRuleset: active.filter((r) => r.protection === 'ruleset' && (plan !== 'free' || r.visibility === 'public')).length,
      activeWithoutReviews: active.filter((r) => r.protection === 'none' || r.protection === 'noReviews' || (plan === 'free' && r.visibility !== 'public')).map((r) => `${org.login}/${r.name}`),
    },
    dependabot: { open: openAlerts.length, openCriticalOrHigh: serious.length, staleCriticalOrHigh: serious.filter((a) => a.createdMs < staleBefore).map((a) => `${a.repository}#${a.number}`) },
    secretScanning: { open: openSecrets.length, openIds: openSecrets.map((a) => `${a.repository}#${a.number}`), secrets: org.secrets.map((a) => a.secret) },
  };
}
