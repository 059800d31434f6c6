// The simulated Jamf Pro fleet: which Macs are managed, encrypted,
// firewalled, current. Each compliance attribute is an exact count placed at
// seeded positions (one byte per Mac); the rest of Mac i is derived from
// (seed, i) when asked for.

import { assignCategories, Rng } from '../common/random.js';
import { handleOf, randomPerson } from '../common/people.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../common/time.js';

export interface JamfFleetOptions {
  /** Computers in the inventory (default 50). */
  total?: number;
  /** Not under remote management (general.remoteManagement.managed = false). */
  unmanaged?: number;
  /** Boot partition not FileVault-encrypted (some of them mid-encryption, which is not yet encrypted). */
  unencrypted?: number;
  firewallDisabled?: number;
  sipDisabled?: number;
  gatekeeperDisabled?: number;
  /** general.lastContactTime older than `staleCheckInDays`. */
  staleCheckIn?: number;
  /** macOS older than MINIMUM_OS_MAJOR. */
  outdatedOs?: number;
}

/** macOS majors below this are counted as outdated. */
export const MINIMUM_OS_MAJOR = 14;

const ATTRIBUTES = ['unmanaged', 'unencrypted', 'firewallDisabled', 'sipDisabled', 'gatekeeperDisabled', 'staleCheckIn', 'outdatedOs'] as const;
type Attribute = (typeof ATTRIBUTES)[number];
const DEFAULT_SHARES: Record<Attribute, number> = {
  unmanaged: 0.04,
  unencrypted: 0.08,
  firewallDisabled: 0.1,
  sipDisabled: 0.02,
  gatekeeperDisabled: 0.03,
  staleCheckIn: 0.06,
  outdatedOs: 0.1,
};

interface OsRelease {
  version: string;
  build: string;
}

const CURRENT_OS: readonly OsRelease[] = [
  { version: '15.1.1', build: '24B91' },
  { version: '15.1', build: '24B83' },
  { version: '14.7.1', build: '23H222' },
  { version: '14.7', build: '23H124' },
];
const OUTDATED_OS: readonly OsRelease[] = [
  { version: '13.7.1', build: '22H221' },
  { version: '13.6.9', build: '22G830' },
  { version: '12.7.6', build: '21H1320' },
];

const MODELS = [
  { family: 'MacBook Pro', model: 'MacBook Pro (14-inch, 2023)', modelIdentifier: 'Mac14,9', processorType: 'Apple M2 Pro', processorArchitecture: 'arm64', totalRamMegabytes: 16384 },
  { family: 'MacBook Air', model: 'MacBook Air (M2, 2022)', modelIdentifier: 'Mac14,2', processorType: 'Apple M2', processorArchitecture: 'arm64', totalRamMegabytes: 8192 },
  { family: 'MacBook Pro', model: 'MacBook Pro (16-inch, 2021)', modelIdentifier: 'MacBookPro18,1', processorType: 'Apple M1 Pro', processorArchitecture: 'arm64', totalRamMegabytes: 32768 },
  { family: 'MacBook Pro', model: 'MacBook Pro (13-inch, 2020, Four Thunderbolt 3 ports)', modelIdentifier: 'MacBookPro16,2', processorType: 'Quad-Core Intel Core i5', processorArchitecture: 'x86_64', totalRamMegabytes: 16384 },
  { family: 'Mac mini', model: 'Mac mini (2023)', modelIdentifier: 'Mac14,3', processorType: 'Apple M2', processorArchitecture: 'arm64', totalRamMegabytes: 8192 },
] as const;

export type FileVaultState = 'ENCRYPTED' | 'UNENCRYPTED' | 'ENCRYPTING';

export interface JamfComputerFacts {
  index: number;
  /** Jamf ids are numeric strings, starting at 1. */
  id: string;
  udid: string;
  managementId: string;
  serialNumber: string;
  name: string;
  hardware: (typeof MODELS)[number];
  macAddress: string;
  managed: boolean;
  fileVault: FileVaultState;
  fileVaultPercent: number;
  firewallEnabled: boolean;
  sipEnabled: boolean;
  gatekeeperEnabled: boolean;
  os: OsRelease;
  lastContactMs: number;
  reportMs: number;
  lastEnrolledMs: number;
  owner: { username: string; realname: string; email: string };
  ipAddress: string;
}

const STREAM_COMPUTER = 3;
const SERIAL_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';

export class JamfFleet {
  readonly size: number;
  private readonly flags: Record<Attribute, Uint8Array>;

  constructor(
    private readonly seed: number,
    options: JamfFleetOptions,
    readonly nowMs: number,
    readonly staleCheckInDays: number,
  ) {
    this.size = options.total ?? 50;
    const flags = {} as Record<Attribute, Uint8Array>;
    ATTRIBUTES.forEach((attribute, n) => {
      const count = options[attribute] ?? Math.round(this.size * DEFAULT_SHARES[attribute]);
      flags[attribute] = assignCategories(this.size, [count], new Rng(seed ^ (0x1000 + n)));
    });
    this.flags = flags;
  }

  computer(index: number): JamfComputerFacts {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no computer ${index}`);
    const has = this.attributesOf(index);
    const rng = Rng.forRecord(this.seed, STREAM_COMPUTER, index);
    const owner = randomPerson(rng);
    const hardware = rng.pick(MODELS);
    const stale = has.staleCheckIn;
    // Recent check-ins stay two days clear of the threshold, stale ones two days beyond it,
    // so a verdict taken against a slightly different "now" agrees.
    const lastContactMs = stale
      ? this.nowMs - (this.staleCheckInDays + rng.int(2, 200)) * DAY_MS
      : this.nowMs - rng.int(MINUTE_MS, (this.staleCheckInDays - 2) * DAY_MS);
    const encrypting = has.unencrypted && rng.chance(0.2);
    const fileVault: FileVaultState = !has.unencrypted ? 'ENCRYPTED' : encrypting ? 'ENCRYPTING' : 'UNENCRYPTED';
    const username = `${handleOf(owner)}.${index}`;
    return {
      index,
      id: String(index + 1),
      udid: rng.uuid().toUpperCase(),
      managementId: rng.uuid(),
      serialNumber: rng.chars(10, SERIAL_ALPHABET),
      name: `${owner.firstName}'s ${hardware.family}`,
      hardware,
      macAddress: Array.from({ length: 6 }, () => rng.hex(2)).join(':'),
      managed: !has.unmanaged,
      fileVault,
      fileVaultPercent: fileVault === 'ENCRYPTED' ? 100 : encrypting ? rng.int(5, 95) : 0,
      firewallEnabled: !has.firewallDisabled,
      sipEnabled: !has.sipDisabled,
      gatekeeperEnabled: !has.gatekeeperDisabled,
      os: { ...rng.pick(has.outdatedOs ? OUTDATED_OS : CURRENT_OS) },
      lastContactMs,
      reportMs: lastContactMs - rng.int(MINUTE_MS, 6 * HOUR_MS),
      lastEnrolledMs: lastContactMs - rng.int(30, 900) * DAY_MS,
      owner: { username, realname: `${owner.firstName} ${owner.lastName}`, email: `${username}@example.com` },
      ipAddress: `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    };
  }

  /** Which compliance attributes computer `index` has. */
  private attributesOf(index: number): Record<Attribute, boolean> {
    const has = {} as Record<Attribute, boolean>;
    for (const attribute of ATTRIBUTES) has[attribute] = this.flags[attribute][index] === 1;
    return has;
  }

  *computers(): IterableIterator<JamfComputerFacts> {
    for (let index = 0; index < this.size; index++) yield this.computer(index);
  }
}

export function osMajor(version: string): number {
  return Number(version.split('.')[0]);
}
