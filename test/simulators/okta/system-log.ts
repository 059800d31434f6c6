// The Okta System Log (/api/v1/logs): `count` LogEvents spread evenly over
// the `spanDays` before `now`, in ascending `published` order. Event i is
// derived from (seed, i) and its timestamp grows with i, so a `since`/`until`
// window is found by binary search rather than by scanning.

import { Rng } from '../common/random.js';
import { DAY_MS, iso } from '../common/time.js';
import type { OktaDirectory, OktaUserFacts } from './directory.js';

interface EventKind {
  eventType: string;
  legacyEventType: string | null;
  displayMessage: string;
  weight: number;
  /** Who acts: the user themself, or an administrator acting on a user. */
  actor: 'user' | 'admin';
  /** Share of these events that fail (e.g. wrong password). */
  failureRate: number;
  failureReason: string | null;
  severity: 'INFO' | 'WARN';
}

const EVENT_KINDS: readonly EventKind[] = [
  { eventType: 'user.session.start', legacyEventType: 'core.user_auth.login_success', displayMessage: 'User login to Okta', weight: 40, actor: 'user', failureRate: 0.1, failureReason: 'INVALID_CREDENTIALS', severity: 'INFO' },
  { eventType: 'user.authentication.auth_via_mfa', legacyEventType: 'core.user.factor.attempt_success', displayMessage: 'Authentication of user via MFA', weight: 25, actor: 'user', failureRate: 0.05, failureReason: 'INVALID_CREDENTIALS', severity: 'INFO' },
  { eventType: 'user.session.end', legacyEventType: 'core.user_auth.logout_success', displayMessage: 'User logout from Okta', weight: 10, actor: 'user', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.account.update_password', legacyEventType: 'core.user.config.password_update.success', displayMessage: 'User update password for Okta', weight: 5, actor: 'user', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.mfa.factor.activate', legacyEventType: 'core.user.factor.activate', displayMessage: 'Activate factor or authenticator', weight: 4, actor: 'user', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.account.lock', legacyEventType: 'core.user_auth.account_locked', displayMessage: 'Max sign in attempts exceeded', weight: 2, actor: 'user', failureRate: 0, failureReason: null, severity: 'WARN' },
  { eventType: 'user.lifecycle.create', legacyEventType: 'core.user.config.user_creation.success', displayMessage: 'Create Okta user', weight: 3, actor: 'admin', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.lifecycle.deactivate', legacyEventType: 'core.user.config.user_deactivated', displayMessage: 'Deactivate Okta user', weight: 2, actor: 'admin', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.lifecycle.suspend', legacyEventType: 'core.user.config.user_status.suspended', displayMessage: 'Suspend Okta user', weight: 1, actor: 'admin', failureRate: 0, failureReason: null, severity: 'INFO' },
  { eventType: 'user.mfa.factor.deactivate', legacyEventType: 'core.user.factor.deactivate', displayMessage: 'Reset factor or authenticator', weight: 2, actor: 'admin', failureRate: 0, failureReason: null, severity: 'WARN' },
  { eventType: 'user.account.privilege.grant', legacyEventType: null, displayMessage: 'Grant user privilege', weight: 1, actor: 'admin', failureRate: 0, failureReason: null, severity: 'INFO' },
];
const TOTAL_WEIGHT = EVENT_KINDS.reduce((sum, kind) => sum + kind.weight, 0);

const STREAM_EVENT = 2;
const TOKEN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const PLACES = [
  { city: 'San Francisco', state: 'California', country: 'United States', postalCode: '94105', lat: 37.7898, lon: -122.3942 },
  { city: 'Dublin', state: 'Leinster', country: 'Ireland', postalCode: 'D02', lat: 53.3498, lon: -6.2603 },
  { city: 'Berlin', state: 'Land Berlin', country: 'Germany', postalCode: '10115', lat: 52.52, lon: 13.405 },
] as const;

const USER_AGENTS = [
  { rawUserAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', os: 'Mac OS X', browser: 'CHROME' },
  { rawUserAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0', os: 'Windows 10', browser: 'FIREFOX' },
  { rawUserAgent: 'Okta Verify/9.4 (iPhone; iOS 17.4)', os: 'iOS', browser: 'UNKNOWN' },
] as const;

export class OktaSystemLog {
  private readonly startMs: number;
  private readonly slotMs: number;

  constructor(
    private readonly seed: number,
    private readonly directory: OktaDirectory,
    readonly size: number,
    spanDays: number,
  ) {
    this.startMs = directory.nowMs - spanDays * DAY_MS;
    this.slotMs = size > 0 ? (spanDays * DAY_MS) / size : 0;
  }

  publishedMs(index: number): number {
    return Math.floor(this.startMs + (index + Rng.forRecord(this.seed, STREAM_EVENT, index).next()) * this.slotMs);
  }

  /** The first event published at or after `ms` (size when none). */
  firstAtOrAfter(ms: number): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.publishedMs(middle) < ms) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  eventType(index: number): string {
    return this.kindOf(this.rngFor(index)).eventType;
  }

  event(index: number) {
    const rng = this.rngFor(index);
    const kind = this.kindOf(rng);
    const subject = this.directory.user(rng.int(0, this.directory.size - 1));
    const actor = kind.actor === 'admin' ? this.directory.user(this.directory.ownerIndex) : subject;
    const failed = rng.chance(kind.failureRate);
    const place = rng.pick(PLACES);
    const agent = rng.pick(USER_AGENTS);
    const ipAddress = `203.0.113.${rng.int(1, 254)}`;
    const geographicalContext = { city: place.city, state: place.state, country: place.country, postalCode: place.postalCode, geolocation: { lat: place.lat, lon: place.lon } };
    return {
      uuid: rng.uuid(),
      published: iso(this.publishedMs(index)),
      eventType: kind.eventType,
      version: '0',
      displayMessage: kind.displayMessage,
      severity: failed ? 'WARN' : kind.severity,
      legacyEventType: kind.legacyEventType,
      outcome: { result: failed ? 'FAILURE' : 'SUCCESS', reason: failed ? kind.failureReason : null },
      actor: principalOf(actor),
      client: { userAgent: agent, zone: 'null', device: agent.os === 'iOS' ? 'Mobile' : 'Computer', id: null, ipAddress, geographicalContext },
      device: null,
      authenticationContext: { authenticationProvider: null, credentialProvider: null, credentialType: null, issuer: null, interface: null, authenticationStep: 0, externalSessionId: `idx${rng.chars(22, TOKEN_ALPHABET)}` },
      securityContext: { asNumber: 64496, asOrg: 'example transit', isp: 'example isp', domain: 'example.net', isProxy: false },
      debugContext: { debugData: { requestId: rng.chars(27, TOKEN_ALPHABET) } },
      transaction: { type: 'WEB', id: rng.chars(27, TOKEN_ALPHABET), detail: {} },
      request: { ipChain: [{ ip: ipAddress, geographicalContext, version: 'V4', source: null }] },
      target: kind.actor === 'admin' || kind.eventType.startsWith('user.mfa') ? [principalOf(subject)] : [],
    };
  }

  /** How many events of each type the log holds. */
  countByEventType(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (let index = 0; index < this.size; index++) {
      const type = this.eventType(index);
      counts[type] = (counts[type] ?? 0) + 1;
    }
    return counts;
  }

  /** Event i's generator, past the draw its timestamp used. */
  private rngFor(index: number): Rng {
    const rng = Rng.forRecord(this.seed, STREAM_EVENT, index);
    rng.next();
    return rng;
  }

  private kindOf(rng: Rng): EventKind {
    let ticket = rng.next() * TOTAL_WEIGHT;
    for (const kind of EVENT_KINDS) {
      ticket -= kind.weight;
      if (ticket < 0) return kind;
    }
    return EVENT_KINDS[0] as EventKind;
  }
}

/** The actor/target shape of a user in a LogEvent. */
function principalOf(user: OktaUserFacts) {
  return { id: user.id, type: 'User', alternateId: user.login, displayName: `${user.firstName} ${user.lastName}`, detailEntry: null };
}
