// Okta Management API resource shapes (Users, Factors, Role assignments,
// Org, Password policy), rendered from the directory's facts. Field names and
// enums follow Okta's public API reference.

import { iso, isoOrNull } from '../common/time.js';
import type { OktaAdminRole, OktaFactorFacts, OktaRoleFacts, OktaUserFacts } from './directory.js';

export function userResource(user: OktaUserFacts, origin: string) {
  return {
    id: user.id,
    status: user.status,
    created: iso(user.createdMs),
    activated: isoOrNull(user.activatedMs),
    statusChanged: isoOrNull(user.statusChangedMs),
    lastLogin: isoOrNull(user.lastLoginMs),
    lastUpdated: iso(user.lastUpdatedMs),
    passwordChanged: isoOrNull(user.passwordChangedMs),
    type: { id: 'oty1defaultusertype0' },
    profile: { firstName: user.firstName, lastName: user.lastName, mobilePhone: null, secondEmail: null, login: user.login, email: user.login },
    credentials: user.status === 'PROVISIONED' ? { provider: { type: 'OKTA', name: 'OKTA' } } : { password: {}, provider: { type: 'OKTA', name: 'OKTA' } },
    _links: { self: { href: `${origin}/api/v1/users/${user.id}` } },
  };
}

export function factorResource(factor: OktaFactorFacts, user: OktaUserFacts, origin: string) {
  const self = `${origin}/api/v1/users/${user.id}/factors/${factor.id}`;
  return {
    id: factor.id,
    factorType: factor.factorType,
    provider: factor.provider,
    vendorName: factor.provider,
    status: factor.status,
    created: iso(factor.createdMs),
    lastUpdated: iso(factor.createdMs),
    profile: factorProfile(factor, user),
    _links: {
      self: { href: self, hints: { allow: ['GET', 'DELETE'] } },
      user: { href: `${origin}/api/v1/users/${user.id}`, hints: { allow: ['GET'] } },
      ...(factor.status === 'PENDING_ACTIVATION' ? { activate: { href: `${self}/lifecycle/activate`, hints: { allow: ['POST'] } } } : {}),
    },
  };
}

function factorProfile(factor: OktaFactorFacts, user: OktaUserFacts): Record<string, string> {
  switch (factor.factorType) {
    case 'token:software:totp':
      return { credentialId: user.login };
    case 'push':
    {
      const ios = factor.detail.startsWith('iPhone');
      return { credentialId: user.login, deviceType: ios ? 'SmartPhone_IPhone' : 'SmartPhone_Android', name: factor.detail, platform: ios ? 'IOS' : 'ANDROID', version: ios ? '17.4' : '14' };
    }
    case 'sms':
      return { phoneNumber: factor.detail };
    case 'webauthn':
      return { credentialId: factor.id, authenticatorName: factor.detail };
  }
}

const ROLE_LABELS: Record<OktaAdminRole, string> = {
  SUPER_ADMIN: 'Super Administrator',
  ORG_ADMIN: 'Organization Administrator',
  APP_ADMIN: 'Application Administrator',
  USER_ADMIN: 'Group Administrator',
  HELP_DESK_ADMIN: 'Help Desk Administrator',
  READ_ONLY_ADMIN: 'Read Only Administrator',
};

export function roleResource(role: OktaRoleFacts, user: OktaUserFacts, origin: string) {
  return {
    id: role.id,
    label: ROLE_LABELS[role.type],
    type: role.type,
    status: 'ACTIVE',
    created: iso(role.createdMs),
    lastUpdated: iso(role.createdMs),
    assignmentType: 'USER',
    _links: { assignee: { href: `${origin}/api/v1/users/${user.id}` } },
  };
}

export interface OktaPasswordSettings {
  minLength: number;
  minLowerCase: number;
  minUpperCase: number;
  minNumber: number;
  minSymbol: number;
  excludeUsername: boolean;
  /** settings.password.complexity.dictionary.common.exclude */
  excludeCommonPasswords: boolean;
  maxAgeDays: number;
  expireWarnDays: number;
  minAgeMinutes: number;
  historyCount: number;
  maxAttempts: number;
  autoUnlockMinutes: number;
}

/** Okta's out-of-the-box Default Policy values. */
export const DEFAULT_PASSWORD_SETTINGS: OktaPasswordSettings = {
  minLength: 8,
  minLowerCase: 1,
  minUpperCase: 1,
  minNumber: 1,
  minSymbol: 0,
  excludeUsername: true,
  excludeCommonPasswords: false,
  maxAgeDays: 0,
  expireWarnDays: 0,
  minAgeMinutes: 0,
  historyCount: 4,
  maxAttempts: 10,
  autoUnlockMinutes: 0,
};

export function passwordPolicyResource(settings: OktaPasswordSettings, createdMs: number, origin: string) {
  const id = '00pdefaultpasswordp1';
  return {
    id,
    status: 'ACTIVE',
    name: 'Default Policy',
    description: 'The default policy applies in all situations if no other policy applies.',
    priority: 1,
    system: true,
    conditions: { people: { groups: { include: ['00gallusersgroupid01'] } }, authProvider: { provider: 'OKTA' } },
    created: iso(createdMs),
    lastUpdated: iso(createdMs),
    settings: {
      password: {
        complexity: {
          minLength: settings.minLength,
          minLowerCase: settings.minLowerCase,
          minUpperCase: settings.minUpperCase,
          minNumber: settings.minNumber,
          minSymbol: settings.minSymbol,
          excludeUsername: settings.excludeUsername,
          dictionary: { common: { exclude: settings.excludeCommonPasswords } },
          excludeAttributes: [],
        },
        age: { maxAgeDays: settings.maxAgeDays, expireWarnDays: settings.expireWarnDays, minAgeMinutes: settings.minAgeMinutes, historyCount: settings.historyCount },
        lockout: { maxAttempts: settings.maxAttempts, autoUnlockMinutes: settings.autoUnlockMinutes, userLockoutNotificationChannels: [], showLockoutFailures: false },
      },
      recovery: { factors: { recovery_question: { status: 'ACTIVE', properties: { complexity: { minLength: 4 } } }, okta_email: { status: 'ACTIVE' }, okta_sms: { status: 'INACTIVE' } } },
      delegation: { options: { skipUnlock: false } },
    },
    type: 'PASSWORD',
    _links: { self: { href: `${origin}/api/v1/policies/${id}`, hints: { allow: ['GET', 'PUT'] } } },
  };
}

export function orgResource(orgName: string, subdomain: string, createdMs: number, origin: string) {
  return {
    id: '00o1simulatedorg0001',
    companyName: orgName,
    website: `https://www.${subdomain}.example`,
    status: 'ACTIVE',
    subdomain,
    address1: '1 Market Street',
    address2: null,
    city: 'San Francisco',
    state: 'CA',
    phoneNumber: '+1-555-0100',
    postalCode: '94105',
    country: 'United States',
    supportPhoneNumber: '+1-555-0101',
    endUserSupportHelpURL: null,
    expiresAt: null,
    created: iso(createdMs),
    lastUpdated: iso(createdMs),
    _links: { self: { href: `${origin}/api/v1/org` } },
  };
}
