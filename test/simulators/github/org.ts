// The organization a GitHub simulator serves: members and owners, outside
// collaborators, repositories with their default branch's protection and
// rulesets, Dependabot and secret-scanning alerts. Seeded, exact counts,
// placed relative to `now` like the other simulators' data.

import { handleOf, randomPerson } from '../common/people.js';
import { assignCategories, Rng } from '../common/random.js';
import { DAY_MS, HOUR_MS } from '../common/time.js';

export interface GitHubPopulationOptions {
  /** Organization members (default 30), of whom `owners` (3) are owners and `membersWithout2fa` (2) have no 2FA. */
  members?: number;
  owners?: number;
  membersWithout2fa?: number;
  /** Outside collaborators (default 4), `collaboratorsWithout2fa` (1) of them without 2FA. */
  outsideCollaborators?: number;
  collaboratorsWithout2fa?: number;
  /**
   * Repositories (default 40): `archived` (4), and of the active ones `rulesetProtected` (8: a
   * ruleset requires an approving review), `protectedWithoutReviews` (1: branch protection
   * without a review requirement), `unprotected` (2); the rest have branch protection
   * requiring reviews.
   */
  repositories?: number;
  archived?: number;
  rulesetProtected?: number;
  protectedWithoutReviews?: number;
  unprotected?: number;
  /** Open Dependabot alerts (default 12), `staleCriticalOrHigh` (2) of them critical or high and older than alertMaxAgeDays; `closedDependabotAlerts` (3) fixed or dismissed. */
  dependabotAlerts?: number;
  staleCriticalOrHigh?: number;
  closedDependabotAlerts?: number;
  /** Open secret-scanning alerts (default 1) and resolved ones (2). */
  openSecretAlerts?: number;
  resolvedSecretAlerts?: number;
}

export interface SimMember { id: number; login: string; role: 'admin' | 'member'; twoFactor: boolean }
export interface SimCollaborator { id: number; login: string; twoFactor: boolean }
export type RepoProtection = 'reviews' | 'ruleset' | 'noReviews' | 'none';
export interface SimRepository {
  id: number; name: string; visibility: 'public' | 'private' | 'internal'; archived: boolean; fork: boolean;
  defaultBranch: string; protection: RepoProtection; reviewCount: number; createdMs: number; pushedMs: number;
}
export interface SimDependabotAlert {
  number: number; repository: string; state: 'open' | 'fixed' | 'dismissed'; severity: 'critical' | 'high' | 'medium' | 'low';
  createdMs: number; ghsaId: string; cveId: string | null; ecosystem: string; packageName: string; manifestPath: string; summary: string;
}
export interface SimSecretAlert { number: number; repository: string; state: 'open' | 'resolved'; secretType: string; displayName: string; secret: string; createdMs: number }

const WORDS = ['api', 'web', 'billing', 'infra', 'docs', 'mobile', 'auth', 'data', 'search', 'payments', 'ledger', 'gateway'];
const KINDS = ['service', 'app', 'tools', 'lib', 'pipeline', 'worker', 'sdk'];
const PACKAGES: [string, string, string][] = [['npm', 'lodash', 'package-lock.json'], ['npm', 'express', 'package-lock.json'], ['pip', 'requests', 'requirements.txt'], ['maven', 'org.apache.logging.log4j:log4j-core', 'pom.xml'], ['go', 'golang.org/x/net', 'go.sum'], ['rubygems', 'nokogiri', 'Gemfile.lock']];
const SECRET_TYPES: [string, string][] = [['aws_access_key_id', 'Amazon AWS Access Key ID'], ['github_personal_access_token', 'GitHub Personal Access Token'], ['slack_incoming_webhook_url', 'Slack Incoming Webhook URL'], ['stripe_api_key', 'Stripe API Key']];

export class GitHubOrgData {
  readonly members: SimMember[] = [];
  readonly collaborators: SimCollaborator[] = [];
  readonly repositories: SimRepository[] = [];
  readonly dependabot: SimDependabotAlert[] = [];
  readonly secrets: SimSecretAlert[] = [];

  constructor(seed: number, readonly login: string, readonly nowMs: number, readonly twoFactorRequired: boolean, readonly alertMaxAgeDays: number, p: GitHubPopulationOptions) {
    const n = (v: number | undefined, d: number) => v ?? d;
    const memberCount = n(p.members, 30);
    // Defaults shrink to fit a small population; counts given explicitly are exact.
    const roles = assignCategories(memberCount, [n(p.owners, Math.min(3, memberCount))], new Rng(seed ^ 0x11));
    const no2fa = assignCategories(memberCount, [n(p.membersWithout2fa, Math.min(2, memberCount))], new Rng(seed ^ 0x12));
    for (let i = 0; i < memberCount; i++) {
      const person = randomPerson(Rng.forRecord(seed, 21, i));
      this.members.push({ id: 1_000 + i, login: `${handleOf(person).replace('.', '-')}${i}`, role: roles[i] === 1 ? 'admin' : 'member', twoFactor: no2fa[i] !== 1 });
    }
    const collaboratorCount = n(p.outsideCollaborators, 4);
    const c2fa = assignCategories(collaboratorCount, [n(p.collaboratorsWithout2fa, Math.min(1, collaboratorCount))], new Rng(seed ^ 0x13));
    for (let i = 0; i < collaboratorCount; i++) {
      const person = randomPerson(Rng.forRecord(seed, 22, i));
      this.collaborators.push({ id: 900_000 + i, login: `${handleOf(person).replace('.', '-')}-contractor${i}`, twoFactor: c2fa[i] !== 1 });
    }

    const repoCount = n(p.repositories, 40);
    let left = repoCount;
    const fit = (given: number | undefined, fallback: number) => {
      const count = given ?? Math.min(fallback, left);
      left -= count;
      return count;
    };
    const categoryCounts = [fit(p.archived, 4), fit(p.rulesetProtected, 8), fit(p.protectedWithoutReviews, 1), fit(p.unprotected, 2)];
    const kinds = assignCategories(repoCount, categoryCounts, new Rng(seed ^ 0x14));
    const names: string[] = [];
    for (let i = 0; i < repoCount; i++) {
      const rng = Rng.forRecord(seed, 23, i);
      names.push(`${rng.pick(WORDS)}-${rng.pick(KINDS)}-${String(i).padStart(3, '0')}`);
    }
    for (let i = 0; i < repoCount; i++) {
      const rng = Rng.forRecord(seed, 24, i);
      const kind = kinds[i] ?? 0;
      const protection: RepoProtection = kind === 2 ? 'ruleset' : kind === 3 ? 'noReviews' : kind === 4 || kind === 1 ? 'none' : 'reviews';
      const createdMs = this.nowMs - rng.int(60, 2_000) * DAY_MS;
      this.repositories.push({
        id: 50_000 + i, name: names[i]!, visibility: rng.pick(['private', 'private', 'internal', 'public'] as const), archived: kind === 1, fork: rng.chance(0.05),
        defaultBranch: rng.chance(0.8) ? 'main' : 'master', protection, reviewCount: protection === 'reviews' || protection === 'ruleset' ? rng.int(1, 2) : 0,
        createdMs, pushedMs: kind === 1 ? createdMs + DAY_MS : this.nowMs - rng.int(1, 40) * HOUR_MS,
      });
    }
    this.repositories.sort((a, b) => a.name.localeCompare(b.name));
    const active = this.repositories.filter((r) => !r.archived);
    const repoFor = (rng: Rng) => `${login}/${(active.length ? rng.pick(active) : rng.pick(this.repositories)).name}`;

    // Alert ages stay two days clear of the threshold, so a check against the wall clock agrees with truth().
    const maxAge = this.alertMaxAgeDays;
    const openCount = n(p.dependabotAlerts, 12);
    const stale = n(p.staleCriticalOrHigh, Math.min(2, openCount));
    if (stale > openCount) throw new RangeError('staleCriticalOrHigh cannot exceed dependabotAlerts');
    const total = openCount + n(p.closedDependabotAlerts, 3);
    if (total > 0 && this.repositories.length === 0) throw new RangeError('alerts need at least one repository');
    for (let i = 0; i < total; i++) {
      const rng = Rng.forRecord(seed, 25, i);
      const [ecosystem, packageName, manifestPath] = rng.pick(PACKAGES);
      const open = i < openCount;
      let severity: SimDependabotAlert['severity'];
      let ageDays: number;
      if (open && i < stale) {
        severity = rng.pick(['critical', 'high'] as const);
        ageDays = maxAge + 2 + rng.int(0, 200);
      } else if (open && rng.chance(0.5)) {
        severity = rng.pick(['critical', 'high'] as const);
        ageDays = rng.int(0, Math.max(0, maxAge - 2));
      } else {
        severity = rng.pick(['medium', 'low'] as const);
        ageDays = rng.int(0, maxAge * 4);
      }
      this.dependabot.push({
        number: i + 1, repository: repoFor(rng), state: open ? 'open' : rng.pick(['fixed', 'dismissed'] as const), severity,
        createdMs: this.nowMs - ageDays * DAY_MS - rng.int(0, 20) * HOUR_MS, ghsaId: `GHSA-${rng.chars(4, '23456789cfghjmpqrvwx')}-${rng.chars(4, '23456789cfghjmpqrvwx')}-${rng.chars(4, '23456789cfghjmpqrvwx')}`,
        cveId: rng.chance(0.8) ? `CVE-20${rng.int(19, 25)}-${rng.int(1000, 49999)}` : null, ecosystem, packageName, manifestPath, summary: `${severity} vulnerability in ${packageName}`,
      });
    }
    const openSecrets = n(p.openSecretAlerts, 1);
    const secretTotal = openSecrets + n(p.resolvedSecretAlerts, 2);
    for (let i = 0; i < secretTotal; i++) {
      const rng = Rng.forRecord(seed, 26, i);
      const [secretType, displayName] = rng.pick(SECRET_TYPES);
      this.secrets.push({ number: i + 1, repository: repoFor(rng), state: i < openSecrets ? 'open' : 'resolved', secretType, displayName, secret: `leaked-${rng.hex(24)}`, createdMs: this.nowMs - rng.int(1, 90) * DAY_MS });
    }
  }

  repository(name: string): SimRepository | undefined {
    return this.repositories.find((r) => r.name.toLowerCase() === name.toLowerCase());
  }
}
