/**
 * The normalised records the intune connector produces, one JSON Schema (draft 2020-12) per
 * dataset: snake_case fields, ISO-8601 timestamps, `null` when Graph does not say.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;
const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

export const intuneDatasets = {
  'intune.managed_devices': {
    description: 'Devices managed by Intune: OS and version, compliance state, encryption, last sync, ownership and primary user.',
    record_schema: object({
      id: { type: 'string' },
      device_name: { type: 'string' },
      operating_system: { type: ['string', 'null'], description: 'Windows, macOS, iOS, Android, …' },
      os_version: text,
      compliance_state: { enum: ['unknown', 'compliant', 'noncompliant', 'conflict', 'error', 'inGracePeriod', 'configManager', null] },
      is_encrypted: { type: ['boolean', 'null'] },
      last_sync: timestamp,
      enrolled: timestamp,
      ownership: { enum: ['company', 'personal', 'unknown', null], description: 'managedDeviceOwnerType.' },
      user_principal_name: text,
      model: text,
      manufacturer: text,
      serial_number: text,
      azure_ad_device_id: text,
    }),
  },
  'intune.compliance_policies': {
    description: 'Intune device compliance policies: platform, whether assigned, and the encryption, minimum OS and password settings they require.',
    record_schema: object({
      id: { type: 'string' },
      display_name: { type: 'string' },
      platform: { type: 'string', description: 'From the policy type, e.g. windows10, macOS, ios, androidWorkProfile.' },
      created: timestamp,
      last_modified: timestamp,
      version: { type: ['integer', 'null'] },
      assignment_count: { type: 'integer', minimum: 0 },
      assigned: { type: 'boolean' },
      requires_encryption: { type: ['boolean', 'null'], description: 'bitLockerEnabled, storageRequireEncryption or storageRequireDeviceEncryption, as the platform names it.' },
      os_minimum_version: text,
      password_required: { type: ['boolean', 'null'] },
    }),
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
