// The simulated Okta org's people: who exists, in which status, with which
// admin roles and factors, and when they last signed in. Only a one-byte
// category per user is held in memory; everything else about user i is
// derived from (seed, i) on demand, so 100 000 users cost ~100 kB and any
// page is O(page size).

import { assignCategories, Rng } from '../common/random.js';
import { handleOf, randomPerson } from '../common/people.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/time.js';

export type OktaUserStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'RECOVERY' | 'PASSWORD_EXPIRED' | 'LOCKED_OUT' | 'SUSPENDED' | 'DEPROVISIONED';
export const OKTA_USER_STATUSES: readonly OktaUserStatus[] = ['STAGED', 'PROVISIONED', 'ACTIVE', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'SUSPENDED', 'DEPROVISIONED'];

export type OktaAdminRole = 'SUPER_ADMIN' | 'ORG_ADMIN' | 'APP_ADMIN' | 'USER_ADMIN' | 'HELP_DESK_ADMIN' | 'READ_ONLY_ADMIN';
const DELEGATED_ROLES: readonly OktaAdminRole[] = ['ORG_ADMIN', 'APP_ADMIN', 'USER_ADMIN', 'HELP_DESK_ADMIN', 'READ_ONLY_ADMIN'];

export type OktaFactorType = 'token:software:totp' | 'push' | 'sms' | 'webauthn';
const FACTOR_TYPES: readonly OktaFactorType[] = ['token:software:totp', 'push', 'sms', 'webauthn'];

export type OktaFactorProvider = 'OKTA' | 'GOOGLE' | 'FIDO';
export type OktaFactorStatus = 'ACTIVE' | 'PENDING_ACTIVATION';

export interface OktaPopulationOptions {
  /** Users in the org (default 40). */
  total?: number;
  deprovisioned?: number;
  suspended?: number;
  lockedOut?: number;
  /** Activation pending: never signed in, no factor. */
  provisioned?: number;
  /** ACTIVE users holding admin roles; the first is the SUPER_ADMIN who owns the SSWS token. */
  admins?: number;
  /** Of those admins, how many have no ACTIVE factor. */
  adminsWithoutMfa?: number;
  /** ACTIVE non-admins with no ACTIVE factor (some have one stuck in PENDING_ACTIVATION). */
  withoutMfa?: number;
  /** ACTIVE users with MFA whose last login is older than `staleLoginDays`. */
  staleLogins?: number;
  /** ACTIVE users who never signed in (so never enrolled a factor either). */
  neverLoggedIn?: number;
}

/** The population's categories, in the order their counts are drawn; category 0 is "ordinary active user". */
const CATEGORIES = ['deprovisioned', 'suspended', 'lockedOut', 'provisioned', 'adminWithMfa', 'adminWithoutMfa', 'withoutMfa', 'staleLogin', 'neverLoggedIn'] as const;
type Category = 'ordinary' | (typeof CATEGORIES)[number];

export type ResolvedPopulation = Record<(typeof CATEGORIES)[number], number> & { total: number };

/**
 * Fills unset counts with realistic shares of `total`, each clamped to the
 * room left, so that any total (even 3) works without further options.
 * Counts given explicitly are kept and must fit.
 */
export function resolvePopulation(options: OktaPopulationOptions = {}): ResolvedPopulation {
  const total = options.total ?? 40;
  let room = total;
  const take = (given: number | undefined, fallback: number): number => {
    const count = given ?? Math.min(Math.max(0, room), fallback);
    room -= count;
    return count;
  };
  const share = (ratio: number) => Math.round(total * ratio);
  const deprovisioned = take(options.deprovisioned, share(0.05));
  const suspended = take(options.suspended, share(0.02));
  const lockedOut = take(options.lockedOut, share(0.01));
  const provisioned = take(options.provisioned, share(0.02));
  const admins = take(options.admins, Math.max(2, share(0.02)));
  const adminsWithoutMfa = options.adminsWithoutMfa ?? (admins >= 2 ? 1 : 0);
  if (adminsWithoutMfa > admins) throw new RangeError(`adminsWithoutMfa (${adminsWithoutMfa}) exceeds admins (${admins})`);
  return {
    total,
    deprovisioned,
    suspended,
    lockedOut,
    provisioned,
    adminWithMfa: admins - adminsWithoutMfa,
    adminWithoutMfa: adminsWithoutMfa,
    withoutMfa: take(options.withoutMfa, share(0.08)),
    staleLogin: take(options.staleLogins, share(0.1)),
    neverLoggedIn: take(options.neverLoggedIn, share(0.03)),
  };
}

export interface OktaFactorFacts {
  id: string;
  factorType: OktaFactorType;
  provider: OktaFactorProvider;
  status: OktaFactorStatus;
  createdMs: number;
  /** Type-specific detail: a device name, a masked phone number, an authenticator name. */
  detail: string;
}

export interface OktaRoleFacts {
  id: string;
  type: OktaAdminRole;
  createdMs: number;
}

export interface OktaUserFacts {
  index: number;
  id: string;
  status: OktaUserStatus;
  firstName: string;
  lastName: string;
  login: string;
  createdMs: number;
  activatedMs: number | null;
  statusChangedMs: number | null;
  lastLoginMs: number | null;
  passwordChangedMs: number | null;
  lastUpdatedMs: number;
  roles: OktaRoleFacts[];
  factors: OktaFactorFacts[];
}

const STREAM_USER = 1;
const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const ID_INDEX_DIGITS = 12;

export class OktaDirectory {
  readonly size: number;
  /** Index of the SUPER_ADMIN who owns the SSWS token (what /users/me returns). */
  readonly ownerIndex: number;
  private readonly categories: Uint8Array;
  private readonly idTag: string;

  constructor(
    private readonly seed: number,
    population: ResolvedPopulation,
    readonly nowMs: number,
    readonly staleLoginDays: number,
    readonly emailDomain: string,
  ) {
    this.size = population.total;
    this.categories = assignCategories(population.total, CATEGORIES.map((name) => population[name]), new Rng(seed));
    this.idTag = new Rng(seed ^ 0x5eed).chars(5, ID_ALPHABET);
    const firstAdmin = this.categories.findIndex((label) => isAdmin(categoryOf(label)));
    this.ownerIndex = firstAdmin >= 0 ? firstAdmin : 0;
  }

  /**
   * An admin without MFA enrols a factor (what an org's admins do after a finding): from now on
   * they are served, and counted by truth(), as an admin with an ACTIVE factor.
   */
  enrolMfa(userId: string): void {
    const index = this.indexOfId(userId);
    if (index === undefined || this.category(index) !== 'adminWithoutMfa') throw new RangeError(`${userId} is not an admin without MFA`);
    this.categories[index] = CATEGORIES.indexOf('adminWithMfa') + 1;
  }

  /** The user's status alone: O(1), what list filtering scans. */
  statusOf(index: number): OktaUserStatus {
    return STATUS_BY_CATEGORY[this.category(index)];
  }

  /** Okta ids are 20 characters (`00u…`); ours encode the index so lookups are O(1). */
  idOf(index: number): string {
    return `00u${this.idTag}${index.toString(36).padStart(ID_INDEX_DIGITS, '0')}`;
  }

  indexOfId(id: string): number | undefined {
    if (id.length !== 20 || !id.startsWith(`00u${this.idTag}`)) return undefined;
    const digits = id.slice(20 - ID_INDEX_DIGITS);
    if (!/^[0-9a-z]+$/.test(digits)) return undefined;
    const index = parseInt(digits, 36);
    return index < this.size ? index : undefined;
  }

  user(index: number): OktaUserFacts {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no user ${index}`);
    const category = this.category(index);
    const rng = Rng.forRecord(this.seed, STREAM_USER, index);
    const person = randomPerson(rng);
    const id = this.idOf(index);
    const status = STATUS_BY_CATEGORY[category];
    const timeline = this.timeline(category, rng);
    const roles = isAdmin(category) ? this.roles(index, id, timeline.activatedMs ?? timeline.createdMs, rng) : [];
    const factors = this.factors(category, timeline.activatedMs ?? timeline.createdMs, rng);
    return {
      index,
      id,
      status,
      firstName: person.firstName,
      lastName: person.lastName,
      login: `${handleOf(person)}.${index}@${this.emailDomain}`,
      ...timeline,
      roles,
      factors,
    };
  }

  *users(): IterableIterator<OktaUserFacts> {
    for (let index = 0; index < this.size; index++) yield this.user(index);
  }

  private category(index: number): Category {
    return categoryOf(this.categories[index] ?? 0);
  }

  /**
   * Dates consistent with the category. Logins counted as recent are at least
   * two days inside the stale threshold and stale ones at least two days
   * beyond it, so a connector judging staleness against a slightly different
   * "now" (the test's wall clock) reaches the same verdict.
   */
  private timeline(category: Category, rng: Rng) {
    const now = this.nowMs;
    let lastLoginMs: number | null;
    let statusChangedMs: number | null = null;
    switch (category) {
      case 'staleLogin':
        lastLoginMs = now - (this.staleLoginDays + rng.int(2, 400)) * DAY_MS - rng.int(0, DAY_MS);
        break;
      case 'neverLoggedIn':
      case 'provisioned':
        lastLoginMs = null;
        break;
      case 'deprovisioned':
      case 'suspended':
        statusChangedMs = now - rng.int(1, 300) * DAY_MS - rng.int(0, DAY_MS);
        lastLoginMs = statusChangedMs - rng.int(1, 60) * DAY_MS;
        break;
      case 'lockedOut':
        lastLoginMs = this.recentLoginMs(rng);
        statusChangedMs = lastLoginMs + rng.int(MINUTE_MS, HOUR_MS);
        break;
      default:
        lastLoginMs = this.recentLoginMs(rng);
    }
    const createdMs = (lastLoginMs ?? statusChangedMs ?? now) - rng.int(2, 1500) * DAY_MS;
    const activatedMs = category === 'provisioned' ? null : createdMs + rng.int(MINUTE_MS, 2 * HOUR_MS);
    statusChangedMs ??= activatedMs;
    const passwordChangedMs = activatedMs === null ? null : Math.min(now, activatedMs + rng.int(0, 400) * DAY_MS);
    const lastUpdatedMs = Math.max(createdMs, statusChangedMs ?? createdMs, passwordChangedMs ?? createdMs);
    return { createdMs, activatedMs, statusChangedMs, lastLoginMs, passwordChangedMs, lastUpdatedMs };
  }

  private recentLoginMs(rng: Rng): number {
    return this.nowMs - rng.int(HOUR_MS, (this.staleLoginDays - 2) * DAY_MS);
  }

  private roles(index: number, userId: string, sinceMs: number, rng: Rng): OktaRoleFacts[] {
    const types: OktaAdminRole[] = index === this.ownerIndex ? ['SUPER_ADMIN'] : [rng.pick(DELEGATED_ROLES)];
    if (rng.chance(0.25)) {
      const second = rng.pick(DELEGATED_ROLES);
      if (!types.includes(second)) types.push(second);
    }
    return types.map((type, n) => ({ id: `ra1${userId.slice(-12)}${n}${rng.chars(4, ID_ALPHABET)}`, type, createdMs: sinceMs + rng.int(0, 30) * DAY_MS }));
  }

  private factors(category: Category, sinceMs: number, rng: Rng): OktaFactorFacts[] {
    switch (category) {
      case 'deprovisioned':
      case 'provisioned':
      case 'neverLoggedIn':
        return [];
      case 'adminWithoutMfa':
      case 'withoutMfa':
        // Enrolment started but never finished: a factor that does not count as MFA.
        return rng.chance(0.3) ? [this.factor(rng.pick(FACTOR_TYPES), 'PENDING_ACTIVATION', sinceMs, rng)] : [];
      default: {
        const count = rng.int(1, 3);
        const factors: OktaFactorFacts[] = [];
        while (factors.length < count) {
          const type = rng.pick(FACTOR_TYPES);
          if (!factors.some((factor) => factor.factorType === type)) factors.push(this.factor(type, 'ACTIVE', sinceMs, rng));
        }
        return factors;
      }
    }
  }

  private factor(factorType: OktaFactorType, status: OktaFactorStatus, sinceMs: number, rng: Rng): OktaFactorFacts {
    const provider: OktaFactorProvider = factorType === 'webauthn' ? 'FIDO' : factorType === 'token:software:totp' && rng.chance(0.3) ? 'GOOGLE' : 'OKTA';
    return {
      id: `${FACTOR_ID_PREFIX[factorType]}${rng.chars(17, ID_ALPHABET)}`,
      factorType,
      provider,
      status,
      createdMs: Math.min(this.nowMs, sinceMs + rng.int(0, 90) * DAY_MS),
      detail: factorDetail(factorType, rng),
    };
  }
}

const FACTOR_ID_PREFIX: Record<OktaFactorType, string> = { 'token:software:totp': 'ost', push: 'opf', sms: 'mbl', webauthn: 'fwf' };

function factorDetail(type: OktaFactorType, rng: Rng): string {
  switch (type) {
    case 'push':
      return rng.pick(['iPhone 15', 'iPhone 13', 'Pixel 8', 'Galaxy S23']);
    case 'sms':
      return `+1 XXX-XXX-${rng.int(1000, 9999)}`;
    case 'webauthn':
      return rng.pick(['MacBook Pro Touch ID', 'YubiKey 5 NFC', 'Windows Hello']);
    case 'token:software:totp':
      return '';
  }
}

const STATUS_BY_CATEGORY: Record<Category, OktaUserStatus> = {
  ordinary: 'ACTIVE',
  deprovisioned: 'DEPROVISIONED',
  suspended: 'SUSPENDED',
  lockedOut: 'LOCKED_OUT',
  provisioned: 'PROVISIONED',
  adminWithMfa: 'ACTIVE',
  adminWithoutMfa: 'ACTIVE',
  withoutMfa: 'ACTIVE',
  staleLogin: 'ACTIVE',
  neverLoggedIn: 'ACTIVE',
};

function categoryOf(label: number): Category {
  return label === 0 ? 'ordinary' : (CATEGORIES[label - 1] ?? 'ordinary');
}

function isAdmin(category: Category): boolean {
  return category === 'adminWithMfa' || category === 'adminWithoutMfa';
}

/** A factor counts as MFA only once ACTIVE. */
export function hasActiveFactor(user: OktaUserFacts): boolean {
  return user.factors.some((factor) => factor.status === 'ACTIVE');
}
