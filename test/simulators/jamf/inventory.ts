// The Jamf Pro API computer inventory record (GET /api/v1/computers-inventory):
// `id`, `udid` and one object per section. Only the requested sections are
// filled; the others are `null`, as Jamf Pro returns them.

import { DAY_MS, iso } from '../common/time.js';
import type { JamfComputerFacts, JamfFleet } from './fleet.js';

/** The inventory sections the simulator renders, by their `section=` name, with their response keys. */
export const SECTION_KEYS = {
  GENERAL: 'general',
  DISK_ENCRYPTION: 'diskEncryption',
  HARDWARE: 'hardware',
  OPERATING_SYSTEM: 'operatingSystem',
  SECURITY: 'security',
  USER_AND_LOCATION: 'userAndLocation',
} as const;
export type Section = keyof typeof SECTION_KEYS;

export function isSection(name: string): name is Section {
  return Object.hasOwn(SECTION_KEYS, name);
}

const RENDERERS: Record<Section, (computer: JamfComputerFacts) => unknown> = {
  GENERAL: (c) => ({
    name: c.name,
    lastIpAddress: c.ipAddress,
    lastReportedIp: c.ipAddress,
    jamfBinaryVersion: '11.12.0-t1731366051512',
    platform: 'Mac',
    barcode1: null,
    barcode2: null,
    assetTag: `IT-${c.id.padStart(6, '0')}`,
    remoteManagement: { managed: c.managed, managementUsername: c.managed ? 'jamfmanage' : null },
    supervised: c.managed,
    mdmCapable: { capable: c.managed, capableUsers: c.managed ? [c.owner.username] : [] },
    reportDate: iso(c.reportMs),
    lastContactTime: iso(c.lastContactMs),
    lastCloudBackupDate: null,
    lastEnrolledDate: iso(c.lastEnrolledMs),
    mdmProfileExpiration: c.managed ? iso(c.lastEnrolledMs + 2 * 365 * DAY_MS) : null,
    initialEntryDate: iso(c.lastEnrolledMs).slice(0, 10),
    distributionPoint: null,
    enrollmentMethod: c.managed ? { id: '1', objectName: 'Automated Device Enrollment', objectType: 'Automated Enrollment' } : null,
    site: { id: '-1', name: 'None' },
    itunesStoreAccountActive: false,
    enrolledViaAutomatedDeviceEnrollment: c.managed,
    userApprovedMdm: c.managed,
    declarativeDeviceManagementEnabled: c.managed,
    extensionAttributes: [],
    managementId: c.managementId,
  }),
  DISK_ENCRYPTION: (c) => ({
    bootPartitionEncryptionDetails: { partitionName: 'Macintosh HD (Boot Partition)', partitionFileVault2State: c.fileVault, partitionFileVault2Percent: c.fileVaultPercent },
    individualRecoveryKeyValidityStatus: c.fileVault === 'ENCRYPTED' ? 'VALID' : 'NOT_APPLICABLE',
    institutionalRecoveryKeyPresent: false,
    diskEncryptionConfigurationName: c.fileVault === 'UNENCRYPTED' ? null : 'FileVault 2 – Company',
    fileVault2EnabledUserNames: c.fileVault === 'ENCRYPTED' ? [c.owner.username] : [],
    fileVault2EligibilityMessage: 'Eligible',
  }),
  HARDWARE: (c) => ({
    make: 'Apple',
    model: c.hardware.model,
    modelIdentifier: c.hardware.modelIdentifier,
    serialNumber: c.serialNumber,
    processorType: c.hardware.processorType,
    processorArchitecture: c.hardware.processorArchitecture,
    totalRamMegabytes: c.hardware.totalRamMegabytes,
    macAddress: c.macAddress,
    appleSilicon: c.hardware.processorArchitecture === 'arm64',
    extensionAttributes: [],
  }),
  OPERATING_SYSTEM: (c) => ({
    name: 'macOS',
    version: c.os.version,
    build: c.os.build,
    supplementalBuildVersion: null,
    rapidSecurityResponse: null,
    activeDirectoryStatus: 'Not Bound',
    fileVault2Status: c.fileVault === 'ENCRYPTED' ? 'BOOT_ENCRYPTED' : 'NOT_ENCRYPTED',
    softwareUpdateDeviceId: c.hardware.modelIdentifier.replace(',', '').toUpperCase(),
    extensionAttributes: [],
  }),
  SECURITY: (c) => ({
    sipStatus: c.sipEnabled ? 'ENABLED' : 'DISABLED',
    gatekeeperStatus: c.gatekeeperEnabled ? 'APP_STORE_AND_IDENTIFIED_DEVELOPERS' : 'DISABLED',
    xprotectVersion: '5287',
    autoLoginDisabled: true,
    remoteDesktopEnabled: false,
    activationLockEnabled: c.managed,
    recoveryLockEnabled: false,
    firewallEnabled: c.firewallEnabled,
    secureBootLevel: c.hardware.processorArchitecture === 'arm64' ? 'FULL_SECURITY' : 'NOT_SUPPORTED',
    externalBootLevel: c.hardware.processorArchitecture === 'arm64' ? 'NOT_SUPPORTED' : 'DISALLOW_BOOTING_FROM_EXTERNAL_MEDIA',
    bootstrapTokenAllowed: c.managed,
    bootstrapTokenEscrowedStatus: c.managed ? 'ESCROWED' : 'NOT_ESCROWED',
  }),
  USER_AND_LOCATION: (c) => ({
    username: c.owner.username,
    realname: c.owner.realname,
    email: c.owner.email,
    position: 'Staff',
    phone: null,
    departmentId: '-1',
    buildingId: '-1',
    room: null,
    extensionAttributes: [],
  }),
};

export function inventoryRecord(computer: JamfComputerFacts, sections: ReadonlySet<Section>) {
  const record: Record<string, unknown> = { id: computer.id, udid: computer.udid };
  for (const [section, key] of Object.entries(SECTION_KEYS) as [Section, string][]) {
    record[key] = sections.has(section) ? RENDERERS[section](computer) : null;
  }
  return record;
}

/** Sort fields the simulator supports, with the value each sorts by. */
const SORT_KEYS: Record<string, (computer: JamfComputerFacts) => string | number> = {
  id: (c) => c.index,
  udid: (c) => c.udid,
  'general.name': (c) => c.name,
  'general.lastContactTime': (c) => c.lastContactMs,
};

export type SortCriterion = { field: string; descending: boolean };

/** Parses `field:asc,field:desc`; a string naming what is wrong when it is not supported. */
export function parseSort(raw: string): SortCriterion[] | string {
  const criteria: SortCriterion[] = [];
  for (const part of raw.split(',')) {
    const [field = '', direction = 'asc'] = part.trim().split(':');
    if (!Object.hasOwn(SORT_KEYS, field)) return `sort field ${field} is not simulated (supported: ${Object.keys(SORT_KEYS).join(', ')})`;
    if (direction !== 'asc' && direction !== 'desc') return `sort direction must be asc or desc, got ${direction}`;
    criteria.push({ field, descending: direction === 'desc' });
  }
  return criteria;
}

/**
 * The fleet's order under a sort, computed once per distinct sort and
 * cached, so each page afterwards is a slice: O(page size).
 */
export class SortedViews {
  private readonly cache = new Map<string, Uint32Array>();

  constructor(private readonly fleet: JamfFleet) {}

  order(criteria: readonly SortCriterion[]): Uint32Array {
    const cacheKey = criteria.map((c) => `${c.field}:${c.descending ? 'desc' : 'asc'}`).join(',');
    let order = this.cache.get(cacheKey);
    if (!order) {
      order = this.sort(criteria);
      this.cache.set(cacheKey, order);
    }
    return order;
  }

  private sort(criteria: readonly SortCriterion[]): Uint32Array {
    const columns = criteria.map(({ field, descending }) => {
      const key = SORT_KEYS[field] as (computer: JamfComputerFacts) => string | number;
      return { values: Array.from(this.fleet.computers(), key), sign: descending ? -1 : 1 };
    });
    const order = Uint32Array.from({ length: this.fleet.size }, (_, i) => i);
    return order.sort((a, b) => {
      for (const { values, sign } of columns) {
        const x = values[a] as string | number;
        const y = values[b] as string | number;
        if (x !== y) return (x < y ? -1 : 1) * sign;
      }
      return a - b; // ties keep id order, so pages never overlap
    });
  }
}
