// AuditComply's audits, nonconformances and tasks. Top-level field names and
// enums are the seed's response samples, exactly as written (note the
// nonconformance key is `nonconformance_id` and the task key `task_id`, not
// `id`; `nc_count` and `reopened_count` are strings). The seed collapses the
// nested objects (`auditor: {}`, `asset: {}`, `corrective_action: {}`, …), so
// their inner fields are this simulator's inference, marked "inferred".
// AuditComply volumes are small, so records are generated eagerly.

import { Rng } from '../common/random.js';
import { handleOf, randomPerson } from '../common/people.js';
import { DAY_MS, HOUR_MS, iso } from '../common/time.js';

/** Seed: `state string (AuditStateEnum) Enum: "INPROGRESS" "GENERATING" "INREVIEW" "READYTOCLOSE" "CLOSED"`. */
export const AUDIT_STATES = ['INPROGRESS', 'GENERATING', 'INREVIEW', 'READYTOCLOSE', 'CLOSED'] as const;
export type AuditState = (typeof AUDIT_STATES)[number];

/** Seed (nonconformances and tasks): `status Enum: "DRAFT" "OPEN" "INPROGRESS" "INREVIEW" "CLOSED" "OVERDUE" "REOPENED"`. */
export const ACTION_STATUSES = ['DRAFT', 'OPEN', 'INPROGRESS', 'INREVIEW', 'CLOSED', 'OVERDUE', 'REOPENED'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** Inferred: the seed's `object (User)`. */
export interface AuditComplyUser {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
}

/** Inferred: the seed's `object (Asset)`; `{id, name}` as in its asset_breadcrumbs sample. */
interface AssetRef {
  id: number;
  name: string;
}

/** The seed's categories sample: `{ "id": 0, "label": "string" }`. */
interface CategoryRef {
  id: number;
  label: string;
}

export interface AuditRecord {
  name: string;
  id: number;
  status: string;
  additional_signature_print: string | null;
  additional_signature_position: string | null;
  signature: string | null;
  asset_id: number;
  asset_name: string;
  updated_at: string;
  close_audit_enabled: boolean;
  latitude: number | null;
  signature_position: string | null;
  report: string | null;
  closed_at: string | null;
  closed_notes: string | null;
  closed_by_signature: string | null;
  status_color: string;
  completed_at: string | null;
  closed_by_id: number | null;
  created_at: string;
  state: AuditState;
  longitude: number | null;
  signature_print: string | null;
  additional_signature: string | null;
  compliant: boolean;
  status_changed_on_close: boolean;
  device: 'IPAD' | 'WEB' | null;
  published: string | null;
  auditor_id: number;
  notes: string;
  /** Inferred shape. */
  observations: { total: number; compliant: number; non_compliant: number };
  /** Inferred shape. */
  audit_result: { score: number; max_score: number; percentage: number };
  auditor: AuditComplyUser;
  nc_count: string;
  template_tags: string;
  metadata: string;
}

interface ActionFields {
  status: ActionStatus;
  overdue: boolean;
  complete_by: string;
  approved_date: string | null;
  created_at: string;
  assigned_to: number;
  assigned_by: number;
  approved_by: number | null;
  assigned_to_user: AuditComplyUser;
  assigned_by_user: AuditComplyUser;
  approved_by_user: AuditComplyUser | null;
  /** Inferred shape. */
  verification_comment_group: { id: number; comments: string[] };
  /** Inferred shape. */
  rejection_comment_group: { id: number; comments: string[] };
  asset: AssetRef;
  category: CategoryRef[];
  score_response: string;
  template_name: string;
  audit_id: string;
  parent_observation_id: number;
  audit_completed_at: string | null;
  custom_fields: unknown[];
  updated_at: string;
}

export interface NonconformanceRecord extends ActionFields {
  nonconformance_id: number;
  non_conformance: string;
  /** Inferred shape. */
  corrective_action: { description: string; completed: boolean };
  /** Inferred shape. */
  preventative_action: { description: string; completed: boolean };
  reopened_count: string;
}

export interface TaskRecord extends ActionFields {
  task_id: number;
  task: string;
  action: string;
}

export interface AuditComplyCounts {
  audits?: number;
  nonconformances?: number;
  tasks?: number;
}

export interface AuditComplyDataset {
  audits: AuditRecord[];
  nonconformances: NonconformanceRecord[];
  tasks: TaskRecord[];
}

const ASSETS: readonly AssetRef[] = [
  { id: 11, name: 'Dublin HQ' },
  { id: 12, name: 'Belfast Plant' },
  { id: 13, name: 'Cork Data Centre' },
  { id: 14, name: 'London Office' },
  { id: 15, name: 'Payments Platform' },
  { id: 16, name: 'Customer Portal' },
];

const TEMPLATES = [
  { name: 'ISO 27001 Annex A Internal Audit', tags: 'ISO 27001,Information Security', category: { id: 1, label: 'Information Security' } },
  { name: 'Access Control Review', tags: 'ISO 27001,Access Control', category: { id: 1, label: 'Information Security' } },
  { name: 'GDPR Data Protection Audit', tags: 'GDPR,Privacy', category: { id: 2, label: 'Data Protection' } },
  { name: 'Supplier Security Assessment', tags: 'Third Party,Vendor Risk', category: { id: 4, label: 'Supplier Management' } },
  { name: 'Health & Safety Inspection', tags: 'ISO 45001,Safety', category: { id: 3, label: 'Health & Safety' } },
] as const;

const FINDINGS = [
  'Leavers retained system access after their termination date',
  'Quarterly access review not evidenced',
  'Backup restore test not performed this year',
  'Supplier contract lacks data processing clauses',
  'Fire extinguisher inspection overdue',
  'Privileged accounts without MFA',
  'Encryption at rest not enabled on file share',
  'Security awareness training completion below target',
] as const;

const TASKS = [
  'Collect access review sign-off',
  'Upload penetration test report',
  'Update risk register entries',
  'Renew supplier questionnaire',
  'Schedule disaster recovery exercise',
  'Publish revised acceptable use policy',
] as const;

const STATUS_LABELS: Record<AuditState, { status: string; color: string }> = {
  INPROGRESS: { status: 'In Progress', color: '#f0ad4e' },
  GENERATING: { status: 'Generating Report', color: '#5bc0de' },
  INREVIEW: { status: 'In Review', color: '#337ab7' },
  READYTOCLOSE: { status: 'Ready To Close', color: '#5cb85c' },
  CLOSED: { status: 'Closed', color: '#777777' },
};

const STREAM = { user: 10, audit: 11, nonconformance: 12, task: 13 } as const;

export function generateDataset(seed: number, counts: Required<AuditComplyCounts>, nowMs: number): AuditComplyDataset {
  const users = Array.from({ length: 8 }, (_, n) => user(seed, n));
  const audits = Array.from({ length: counts.audits }, (_, n) => audit(seed, n, users, nowMs));
  const nonconformances = Array.from({ length: counts.nonconformances }, (_, n) => nonconformance(seed, n, users, audits, nowMs));
  const tasks = Array.from({ length: counts.tasks }, (_, n) => task(seed, n, users, audits, nowMs));
  const ncCounts = new Map<string, number>();
  for (const nc of nonconformances) ncCounts.set(nc.audit_id, (ncCounts.get(nc.audit_id) ?? 0) + 1);
  for (const record of audits) record.nc_count = String(ncCounts.get(String(record.id)) ?? 0);
  return { audits, nonconformances, tasks };
}

function user(seed: number, n: number): AuditComplyUser {
  const person = randomPerson(Rng.forRecord(seed, STREAM.user, n));
  const username = `${handleOf(person)}.${n + 1}`;
  return { id: n + 1, username, email: `${username}@example.com`, first_name: person.firstName, last_name: person.lastName };
}

function pickState(rng: Rng): AuditState {
  const ticket = rng.next();
  if (ticket < 0.5) return 'CLOSED';
  if (ticket < 0.7) return 'INPROGRESS';
  if (ticket < 0.85) return 'INREVIEW';
  if (ticket < 0.95) return 'READYTOCLOSE';
  return 'GENERATING';
}

function audit(seed: number, n: number, users: readonly AuditComplyUser[], nowMs: number): AuditRecord {
  const rng = Rng.forRecord(seed, STREAM.audit, n);
  const id = 1000 + n;
  const state = pickState(rng);
  const template = rng.pick(TEMPLATES);
  const asset = rng.pick(ASSETS);
  const auditor = rng.pick(users);
  const createdMs = nowMs - rng.int(5, 365) * DAY_MS;
  const completedMs = state === 'INPROGRESS' ? null : Math.min(nowMs - HOUR_MS, createdMs + rng.int(1, 14) * DAY_MS);
  const closedMs = state === 'CLOSED' && completedMs !== null ? Math.min(nowMs - HOUR_MS, completedMs + rng.int(1, 10) * DAY_MS) : null;
  const updatedMs = closedMs ?? completedMs ?? createdMs + rng.int(0, 4) * DAY_MS;
  const total = rng.int(10, 60);
  const nonCompliant = rng.int(0, Math.floor(total / 5));
  const maxScore = total * 5;
  const score = maxScore - nonCompliant * 5;
  const labels = STATUS_LABELS[state];
  return {
    name: `${template.name} – ${asset.name}`,
    id,
    status: labels.status,
    additional_signature_print: null,
    additional_signature_position: null,
    signature: completedMs === null ? null : `https://files.auditcomply.example/signatures/${id}.png`,
    asset_id: asset.id,
    asset_name: asset.name,
    updated_at: iso(updatedMs),
    close_audit_enabled: true,
    latitude: rng.chance(0.5) ? 53.3498 : null,
    signature_position: completedMs === null ? null : 'Lead Auditor',
    report: completedMs === null ? null : `https://files.auditcomply.example/reports/${id}.pdf`,
    closed_at: closedMs === null ? null : iso(closedMs),
    closed_notes: closedMs === null ? null : 'Closed after review of evidence.',
    closed_by_signature: null,
    status_color: labels.color,
    completed_at: completedMs === null ? null : iso(completedMs),
    closed_by_id: closedMs === null ? null : auditor.id,
    created_at: iso(createdMs),
    state,
    longitude: rng.chance(0.5) ? -6.2603 : null,
    signature_print: completedMs === null ? null : `${auditor.first_name} ${auditor.last_name}`,
    additional_signature: null,
    compliant: nonCompliant === 0,
    status_changed_on_close: state === 'CLOSED',
    device: rng.pick(['IPAD', 'WEB', null] as const),
    published: completedMs === null ? null : iso(completedMs),
    auditor_id: auditor.id,
    notes: '',
    observations: { total, compliant: total - nonCompliant, non_compliant: nonCompliant },
    audit_result: { score, max_score: maxScore, percentage: Math.round((score / maxScore) * 1000) / 10 },
    auditor,
    nc_count: '0',
    template_tags: template.tags,
    metadata: '{}',
  };
}

function pickStatus(rng: Rng): ActionStatus {
  const ticket = rng.next();
  if (ticket < 0.4) return 'CLOSED';
  if (ticket < 0.6) return 'OPEN';
  if (ticket < 0.75) return 'INPROGRESS';
  if (ticket < 0.83) return 'INREVIEW';
  if (ticket < 0.93) return 'OVERDUE';
  if (ticket < 0.97) return 'REOPENED';
  return 'DRAFT';
}

/** What nonconformances and tasks share: status, dates, people, the audit they came from. */
function actionFields(rng: Rng, id: number, users: readonly AuditComplyUser[], audits: readonly AuditRecord[], nowMs: number): ActionFields {
  const status = pickStatus(rng);
  const source = audits.length > 0 ? rng.pick(audits) : undefined;
  const template = TEMPLATES.find((t) => source?.name.startsWith(t.name)) ?? rng.pick(TEMPLATES);
  const asset = ASSETS.find((a) => a.id === source?.asset_id) ?? rng.pick(ASSETS);
  const createdMs = (source ? Date.parse(source.created_at) : nowMs - rng.int(5, 365) * DAY_MS) + rng.int(1, 3) * DAY_MS;
  // OVERDUE is by definition past due; CLOSED ones may have been late, but are no longer overdue.
  const dueMs = status === 'OVERDUE' ? nowMs - rng.int(1, 60) * DAY_MS : createdMs + rng.int(14, 120) * DAY_MS;
  const closed = status === 'CLOSED';
  const approvedMs = closed ? Math.min(nowMs - HOUR_MS, createdMs + rng.int(2, 60) * DAY_MS) : null;
  const assignedTo = rng.pick(users);
  const assignedBy = rng.pick(users);
  const approvedBy = closed ? rng.pick(users) : null;
  return {
    status,
    overdue: !closed && dueMs < nowMs,
    complete_by: iso(dueMs).slice(0, 10),
    approved_date: approvedMs === null ? null : iso(approvedMs),
    created_at: iso(Math.min(createdMs, nowMs - HOUR_MS)),
    assigned_to: assignedTo.id,
    assigned_by: assignedBy.id,
    approved_by: approvedBy?.id ?? null,
    assigned_to_user: assignedTo,
    assigned_by_user: assignedBy,
    approved_by_user: approvedBy,
    verification_comment_group: { id: id * 2, comments: closed ? ['Evidence verified.'] : [] },
    rejection_comment_group: { id: id * 2 + 1, comments: [] },
    asset,
    category: [template.category],
    score_response: rng.pick(['No', 'Partially', 'Not Evidenced']),
    template_name: template.name,
    audit_id: source ? String(source.id) : '',
    parent_observation_id: 50_000 + rng.int(0, 9999),
    audit_completed_at: source?.completed_at ?? null,
    custom_fields: [],
    updated_at: iso(Math.min(nowMs - HOUR_MS, approvedMs ?? createdMs + rng.int(0, 20) * DAY_MS)),
  };
}

function nonconformance(seed: number, n: number, users: readonly AuditComplyUser[], audits: readonly AuditRecord[], nowMs: number): NonconformanceRecord {
  const rng = Rng.forRecord(seed, STREAM.nonconformance, n);
  const id = 5000 + n;
  const fields = actionFields(rng, id, users, audits, nowMs);
  const done = fields.status === 'CLOSED';
  return {
    nonconformance_id: id,
    non_conformance: rng.pick(FINDINGS),
    corrective_action: { description: 'Correct the finding and attach evidence.', completed: done },
    preventative_action: { description: 'Add a recurring control check.', completed: done },
    reopened_count: fields.status === 'REOPENED' ? String(rng.int(1, 2)) : '0',
    ...fields,
  };
}

function task(seed: number, n: number, users: readonly AuditComplyUser[], audits: readonly AuditRecord[], nowMs: number): TaskRecord {
  const rng = Rng.forRecord(seed, STREAM.task, n);
  const id = 8000 + n;
  const title = rng.pick(TASKS);
  return { task_id: id, task: title, action: `${title} and upload the evidence.`, ...actionFields(rng, id, users, audits, nowMs) };
}
