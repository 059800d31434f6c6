import type { JsonValue } from '../types.js';

/** Okta API objects → the normalised records of connectors/okta/records.ts. */

interface OktaUser {
  id: string;
  status: string;
  created?: string | null;
  activated?: string | null;
  statusChanged?: string | null;
  lastLogin?: string | null;
  passwordChanged?: string | null;
  profile?: { login?: string; email?: string; firstName?: string; lastName?: string };
}
export interface OktaFactor {
  id: string;
  factorType: string;
  provider: string;
  status: string;
}
export interface OktaRole {
  type: string;
  status?: string;
}

export function userRecord(user: OktaUser, factors: OktaFactor[] | null, roles: OktaRole[] | null): JsonValue {
  const adminRoles = (roles ?? []).filter((r) => (r.status ?? 'ACTIVE') === 'ACTIVE').map((r) => r.type).sort();
  return {
    id: user.id,
    login: user.profile?.login ?? '',
    email: user.profile?.email ?? null,
    first_name: user.profile?.firstName ?? null,
    last_name: user.profile?.lastName ?? null,
    status: user.status,
    created: user.created ?? null,
    activated: user.activated ?? null,
    status_changed: user.statusChanged ?? null,
    last_login: user.lastLogin ?? null,
    password_changed: user.passwordChanged ?? null,
    // Only an ACTIVE factor protects a sign-in; PENDING_ACTIVATION does not.
    // null: not looked up (enrich: false), which is not the same as "none".
    mfa_enrolled: factors ? factors.some((f) => f.status === 'ACTIVE') : null,
    mfa_factors: (factors ?? []).map((f) => ({ id: f.id, type: f.factorType, provider: f.provider, status: f.status })),
    is_admin: roles ? adminRoles.length > 0 : null,
    admin_roles: adminRoles,
  };
}

interface OktaPasswordPolicy {
  id: string;
  name: string;
  status: string;
  priority?: number;
  system?: boolean;
  settings?: {
    password?: {
      complexity?: { minLength?: number; minLowerCase?: number; minUpperCase?: number; minNumber?: number; minSymbol?: number; excludeUsername?: boolean };
      age?: { maxAgeDays?: number; minAgeMinutes?: number; historyCount?: number };
      lockout?: { maxAttempts?: number; autoUnlockMinutes?: number };
    };
  };
}

export function passwordPolicyRecord(policy: OktaPasswordPolicy): JsonValue {
  const password = policy.settings?.password;
  const n = (v: number | undefined) => (typeof v === 'number' ? v : null);
  return {
    id: policy.id,
    name: policy.name,
    status: policy.status,
    priority: n(policy.priority),
    system: policy.system ?? false,
    min_length: n(password?.complexity?.minLength),
    min_lower_case: n(password?.complexity?.minLowerCase),
    min_upper_case: n(password?.complexity?.minUpperCase),
    min_number: n(password?.complexity?.minNumber),
    min_symbol: n(password?.complexity?.minSymbol),
    exclude_username: password?.complexity?.excludeUsername ?? null,
    history_count: n(password?.age?.historyCount),
    max_age_days: n(password?.age?.maxAgeDays),
    min_age_minutes: n(password?.age?.minAgeMinutes),
    lockout_max_attempts: n(password?.lockout?.maxAttempts),
    lockout_auto_unlock_minutes: n(password?.lockout?.autoUnlockMinutes),
  };
}

interface OktaLogEvent {
  uuid: string;
  published: string;
  eventType: string;
  displayMessage?: string | null;
  severity: string;
  outcome?: { result?: string | null; reason?: string | null } | null;
  actor?: { id?: string; type?: string; alternateId?: string } | null;
  client?: { ipAddress?: string | null } | null;
  target?: { id: string; type: string; alternateId?: string | null }[] | null;
}

export function logEventRecord(event: OktaLogEvent): JsonValue {
  return {
    uuid: event.uuid,
    published: event.published,
    event_type: event.eventType,
    display_message: event.displayMessage ?? null,
    severity: event.severity,
    outcome_result: event.outcome?.result ?? null,
    outcome_reason: event.outcome?.reason ?? null,
    actor_id: event.actor?.id ?? null,
    actor_type: event.actor?.type ?? null,
    actor_alternate_id: event.actor?.alternateId ?? null,
    client_ip: event.client?.ipAddress ?? null,
    targets: (event.target ?? []).map((t) => ({ id: t.id, type: t.type, alternate_id: t.alternateId ?? null })),
  };
}
