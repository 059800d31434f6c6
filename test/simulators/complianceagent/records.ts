// ComplianceAgent's audit log entries. Field names and nesting are the seed's
// (shared/seeds/004_39e7a9b172719bec.txt, "Get Audit Logs" and "Get Single
// Log Entry" responses): `event_type`, `actor {type, id, email, name}`,
// `resource`, `repository {id, name}`, `details`, `metadata {ip_address,
// user_agent, session_id, request_id}`, `timestamp`, `hash`,
// `previous_hash`. The event types are the seed's "Event Types" table. The
// contents of `details` per event type follow the seed's two samples
// (issue.resolved, fix.applied) and are otherwise inferred.

import { handleOf, randomPerson } from '../common/people.js';
import { Rng } from '../common/random.js';
import { DAY_MS, iso } from '../common/time.js';

/** The seed's "Event Types" table. */
export const EVENT_TYPES = [
  'scan.started',
  'scan.completed',
  'issue.created',
  'issue.updated',
  'issue.resolved',
  'fix.generated',
  'fix.applied',
  'config.changed',
  'access.granted',
  'access.revoked',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** "Filter by actor (user or system)". */
export interface Actor {
  type: 'user' | 'system';
  id: string;
  email: string | null;
  name: string | null;
}

export interface Repository {
  id: string;
  name: string;
}

/** An entry as stored, before it is chained: everything the chain hashes. */
export interface LogContent {
  id: string;
  event_type: EventType;
  actor: Actor;
  resource: { type: string; id: string; [field: string]: unknown };
  repository: Repository;
  details: Record<string, unknown>;
  metadata: { ip_address: string | null; user_agent: string | null; session_id: string | null; request_id: string };
  timestamp: string;
}

/** The seed's repository names ("acme/web-app", "acme/api", "acme/mobile") with ids from its samples. */
export const REPOSITORIES: readonly Repository[] = [
  { id: 'repo_789', name: 'acme/web-app' },
  { id: 'repo_123', name: 'acme/api' },
  { id: 'repo_456', name: 'acme/mobile' },
];

const SYSTEM_ACTOR: Actor = { type: 'system', id: 'system', email: null, name: 'ComplianceAgent' };

const FRAMEWORKS = [
  { framework: 'gdpr', requirement: 'art_32' },
  { framework: 'soc2', requirement: 'CC6.1' },
  { framework: 'hipaa', requirement: '164.312(a)(2)(iv)' },
  { framework: 'pci_dss', requirement: '3.5.1' },
] as const;

const ISSUES = [
  'Missing encryption for PII',
  'Hard-coded credentials in configuration',
  'Audit logging disabled for admin actions',
  'Session timeout exceeds policy',
  'Personal data retained beyond retention period',
] as const;

const USER_AGENTS = ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'complianceagent-cli/2.3.1'] as const;

const STREAM = { user: 40, entry: 41, appended: 42 } as const;

/** Users: the seed's two named actors (dev@acme.com, "Alice Developer"; security@acme.com) and generated colleagues. */
export function generateUsers(seed: number, count = 5): Actor[] {
  const users: Actor[] = [
    { type: 'user', id: 'user_123', email: 'dev@acme.com', name: 'Alice Developer' },
    { type: 'user', id: 'user_124', email: 'security@acme.com', name: 'Sam Security' },
  ];
  for (let n = users.length; n < count; n++) {
    const person = randomPerson(Rng.forRecord(seed, STREAM.user, n));
    users.push({ type: 'user', id: `user_${125 + n}`, email: `${handleOf(person)}@acme.com`, name: `${person.firstName} ${person.lastName}` });
  }
  return users;
}

/** Who performs an event: the agent itself scans, detects and drafts fixes; people change, resolve and grant. */
function isSystemEvent(type: EventType): boolean {
  return type === 'scan.started' || type === 'scan.completed' || type === 'issue.created' || type === 'fix.generated';
}

function eventOf(rng: Rng, type: EventType, users: readonly Actor[]): Pick<LogContent, 'actor' | 'resource' | 'details'> {
  const actor = isSystemEvent(type) ? SYSTEM_ACTOR : rng.pick(users);
  const { framework, requirement } = rng.pick(FRAMEWORKS);
  const issueId = `issue_${rng.int(100, 999)}`;
  const fixId = `fix_${rng.int(100, 999)}`;
  const prNumber = rng.int(100, 999);
  switch (type) {
    case 'scan.started':
      return { actor, resource: { type: 'scan', id: `scan_${rng.hex(8)}` }, details: { framework, trigger: rng.pick(['schedule', 'push', 'manual']) } };
    case 'scan.completed':
      return { actor, resource: { type: 'scan', id: `scan_${rng.hex(8)}` }, details: { framework, score: rng.int(60, 98), issues_found: rng.int(0, 12), duration_seconds: rng.int(20, 600) } };
    case 'issue.created':
      return { actor, resource: { type: 'issue', id: issueId, name: rng.pick(ISSUES) }, details: { severity: rng.pick(['critical', 'high', 'medium', 'low']), framework, requirement } };
    case 'issue.updated':
      return { actor, resource: { type: 'issue', id: issueId, name: rng.pick(ISSUES) }, details: { previous_status: 'open', new_status: 'in_progress' } };
    case 'issue.resolved':
      // The seed's list sample, field for field.
      return { actor, resource: { type: 'issue', id: issueId, name: rng.pick(ISSUES) }, details: { previous_status: 'open', new_status: 'fixed', fix_method: 'pull_request', pr_number: prNumber } };
    case 'fix.generated':
      return { actor, resource: { type: 'fix', id: fixId, issue_id: issueId }, details: { fix_type: rng.pick(['encryption', 'secret_rotation', 'config']), framework, requirement } };
    case 'fix.applied':
      // The seed's single-entry sample, field for field.
      return {
        actor,
        resource: { type: 'fix', id: fixId, issue_id: issueId },
        details: {
          fix_type: 'encryption',
          files_changed: ['src/models/user.py', 'src/utils/encryption.py'],
          pull_request: { url: `https://github.com/acme/web-app/pull/${prNumber}`, number: prNumber },
          framework,
          requirement,
        },
      };
    case 'config.changed':
      return { actor, resource: { type: 'config', id: 'config_scan', name: 'Scan settings' }, details: { setting: 'scan_schedule', previous_value: 'weekly', new_value: 'daily' } };
    case 'access.granted':
    case 'access.revoked': {
      const subject = rng.pick(users);
      return { actor, resource: { type: 'user', id: subject.id, name: subject.email ?? subject.id }, details: { role: rng.pick(['viewer', 'developer', 'admin']) } };
    }
  }
}

/** One entry, entirely derived from (seed, stream, index), at `timestampMs`. */
export function generateEntry(seed: number, index: number, timestampMs: number, users: readonly Actor[], appended = false): LogContent {
  const rng = Rng.forRecord(seed, appended ? STREAM.appended : STREAM.entry, index);
  const type = rng.pick(EVENT_TYPES);
  const event = eventOf(rng, type, users);
  const human = event.actor.type === 'user';
  return {
    id: `log_${rng.hex(12)}`,
    event_type: type,
    ...event,
    repository: rng.pick(REPOSITORIES),
    metadata: {
      ip_address: human ? `203.0.113.${rng.int(1, 254)}` : null,
      user_agent: human ? rng.pick(USER_AGENTS) : null,
      session_id: human ? `sess_${rng.hex(8)}` : null,
      request_id: `req_${rng.hex(8)}`,
    },
    timestamp: iso(timestampMs),
  };
}

/**
 * `count` entries over the `spanDays` before `nowMs`, strictly increasing in time (the
 * chain's order), the last one an hour before `nowMs`.
 */
export function generateEntries(seed: number, count: number, spanDays: number, nowMs: number, users: readonly Actor[]): LogContent[] {
  const endMs = nowMs - DAY_MS / 24;
  const stepMs = Math.max(1000, Math.floor((spanDays * DAY_MS) / Math.max(1, count)));
  const startMs = endMs - stepMs * count;
  return Array.from({ length: count }, (_, n) => {
    const jitter = Rng.forRecord(seed, STREAM.entry + 100, n).int(0, Math.floor(stepMs / 2));
    return generateEntry(seed, n, startMs + (n + 1) * stepMs - jitter, users);
  });
}
