/**
 * The normalised records the Jamf Pro connector produces, one JSON Schema (draft 2020-12)
 * per dataset: snake_case fields, ISO-8601 timestamps, `null` when Jamf does not say.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;

export const jamfDatasets = {
  'jamf.computers': {
    description: 'Computers in Jamf Pro inventory with management state, OS version and security settings.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: [
        'id',
        'udid',
        'name',
        'serial_number',
        'managed',
        'supervised',
        'last_contact',
        'last_enrolled',
        'model',
        'os_name',
        'os_version',
        'os_build',
        'filevault_enabled',
        'filevault_status',
        'firewall_enabled',
        'sip_status',
        'gatekeeper_status',
        'xprotect_version',
      ],
      properties: {
        id: { type: 'string', description: 'Jamf Pro computer id.' },
        udid: text,
        name: { type: 'string' },
        serial_number: text,
        managed: { type: 'boolean' },
        supervised: { type: ['boolean', 'null'] },
        last_contact: { ...timestamp, description: 'Last check-in with Jamf Pro.' },
        last_enrolled: timestamp,
        model: text,
        os_name: text,
        os_version: { ...text, description: 'e.g. "14.4.1".' },
        os_build: text,
        filevault_enabled: { type: 'boolean', description: 'The boot volume is encrypted with FileVault.' },
        filevault_status: { ...text, description: 'e.g. ALL_ENCRYPTED, BOOT_ENCRYPTED, NOT_ENCRYPTED.' },
        firewall_enabled: { type: 'boolean' },
        sip_status: { ...text, description: 'System Integrity Protection, e.g. ENABLED.' },
        gatekeeper_status: { ...text, description: 'e.g. APP_STORE_AND_IDENTIFIED_DEVELOPERS.' },
        xprotect_version: text,
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
