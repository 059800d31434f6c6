import { GraphClient, type GraphCall } from '../microsoft-graph/client.js';
import { graphConfigSchema, graphSecretsSchema, graphUrlFields, type GraphConfig } from '../microsoft-graph/settings.js';
import { connectionContext, type JsonValue, type SourceConnector } from '../types.js';
import { intuneDatasets } from './records.js';

const CALLS = {
  devices: { what: 'listing Intune managed devices', permission: 'DeviceManagementManagedDevices.Read.All', licence: 'a Microsoft Intune licence' },
  policies: { what: 'listing Intune device compliance policies', permission: 'DeviceManagementConfiguration.Read.All', licence: 'a Microsoft Intune licence' },
} satisfies Record<string, GraphCall>;

const DEVICE_FIELDS = 'id,deviceName,operatingSystem,osVersion,complianceState,isEncrypted,lastSyncDateTime,enrolledDateTime,managedDeviceOwnerType,userPrincipalName,model,manufacturer,serialNumber,azureADDeviceId';

interface GraphManagedDevice {
  id: string;
  deviceName?: string | null;
  operatingSystem?: string | null;
  osVersion?: string | null;
  complianceState?: string | null;
  isEncrypted?: boolean | null;
  lastSyncDateTime?: string | null;
  enrolledDateTime?: string | null;
  managedDeviceOwnerType?: string | null;
  userPrincipalName?: string | null;
  model?: string | null;
  manufacturer?: string | null;
  serialNumber?: string | null;
  azureADDeviceId?: string | null;
}

/** Graph reports "never synced" and "unknown" dates as 0001-01-01T00:00:00Z. */
const dateOrNull = (value: string | null | undefined) => (!value || value.startsWith('0001-01-01') ? null : value);
const COMPLIANCE = new Set(['unknown', 'compliant', 'noncompliant', 'conflict', 'error', 'inGracePeriod', 'configManager']);
const OWNERSHIP = new Set(['company', 'personal', 'unknown']);

export function deviceRecord(d: GraphManagedDevice): JsonValue {
  return {
    id: d.id,
    device_name: d.deviceName ?? '',
    operating_system: d.operatingSystem ?? null,
    os_version: d.osVersion || null,
    compliance_state: d.complianceState && COMPLIANCE.has(d.complianceState) ? d.complianceState : null,
    is_encrypted: d.isEncrypted ?? null,
    last_sync: dateOrNull(d.lastSyncDateTime),
    enrolled: dateOrNull(d.enrolledDateTime),
    ownership: d.managedDeviceOwnerType && OWNERSHIP.has(d.managedDeviceOwnerType) ? d.managedDeviceOwnerType : null,
    user_principal_name: d.userPrincipalName || null,
    model: d.model || null,
    manufacturer: d.manufacturer || null,
    serial_number: d.serialNumber || null,
    azure_ad_device_id: d.azureADDeviceId || null,
  };
}

interface GraphCompliancePolicy {
  '@odata.type'?: string;
  id: string;
  displayName?: string | null;
  createdDateTime?: string | null;
  lastModifiedDateTime?: string | null;
  version?: number | null;
  assignments?: unknown[] | null;
  bitLockerEnabled?: boolean | null;
  storageRequireEncryption?: boolean | null;
  storageRequireDeviceEncryption?: boolean | null;
  osMinimumVersion?: string | null;
  passwordRequired?: boolean | null;
}

export function compliancePolicyRecord(p: GraphCompliancePolicy): JsonValue {
  const type = (p['@odata.type'] ?? '').replace(/^#microsoft\.graph\./, '');
  const encryption = [p.bitLockerEnabled, p.storageRequireEncryption, p.storageRequireDeviceEncryption].filter((v): v is boolean => typeof v === 'boolean');
  const assignments = Array.isArray(p.assignments) ? p.assignments.length : 0;
  return {
    id: p.id,
    display_name: p.displayName ?? p.id,
    platform: type.replace(/CompliancePolicy$/, '') || 'unknown',
    created: p.createdDateTime ?? null,
    last_modified: p.lastModifiedDateTime ?? null,
    version: typeof p.version === 'number' ? p.version : null,
    assignment_count: assignments,
    assigned: assignments > 0,
    requires_encryption: encryption.length > 0 ? encryption.some(Boolean) : null,
    os_minimum_version: p.osMinimumVersion || null,
    password_required: p.passwordRequired ?? null,
  };
}

export const intuneConnector: SourceConnector<GraphClient> = {
  type: 'intune',
  name: 'Microsoft Intune',
  description: 'Intune managed devices (OS, compliance, encryption, last sync, ownership) and device compliance policies, from Microsoft Graph (the same app registration fields as entra).',
  configSchema: graphConfigSchema,
  secretsSchema: graphSecretsSchema,
  urlFields: graphUrlFields,

  open: (context) => new GraphClient(connectionContext(context), context.config as unknown as GraphConfig),

  async test(graph) {
    await graph.authenticate();
    await graph.get('/deviceManagement/managedDevices?$top=1&$select=id', { ...CALLS.devices, what: 'reading one managed device' });
  },

  datasets: {
    'intune.managed_devices': {
      ...intuneDatasets['intune.managed_devices'],
      async *pages(graph, cursor) {
        const first = `/deviceManagement/managedDevices?$select=${DEVICE_FIELDS}&$top=${graph.pageSize}`;
        for await (const page of graph.pages<GraphManagedDevice>((cursor as string | null) ?? first, CALLS.devices)) {
          yield { records: page.items.map(deviceRecord), next: page.next };
        }
      },
    },
    'intune.compliance_policies': {
      ...intuneDatasets['intune.compliance_policies'],
      async *pages(graph, cursor) {
        for await (const page of graph.pages<GraphCompliancePolicy>((cursor as string | null) ?? '/deviceManagement/deviceCompliancePolicies?$expand=assignments', CALLS.policies)) {
          yield { records: page.items.map(compliancePolicyRecord), next: page.next };
        }
      },
    },
  },
};
