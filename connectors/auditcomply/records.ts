/**
 * The normalised records the AuditComply connector produces, one JSON Schema (draft 2020-12)
 * per dataset. Fields keep the names and types AuditComply's API returns for its list
 * endpoints (audits_list, nonconformances_list, tasks_list in the API document), including
 * its quirks: `nc_count`, `reopened_count` and `audit_id` are strings there, `complete_by` is
 * a calendar date. Signature images and coordinates carry no evidence and are dropped.
 */

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const text = { type: ['string', 'null'] } as const;
const userId = { type: ['integer', 'null'] } as const;
const nested = { type: ['object', 'null'] } as const;

export const AUDIT_STATES = ['INPROGRESS', 'GENERATING', 'INREVIEW', 'READYTOCLOSE', 'CLOSED'] as const;
/** Statuses of nonconformances and tasks (the API document's status enum for both lists). */
export const ACTION_STATUSES = ['DRAFT', 'OPEN', 'INPROGRESS', 'INREVIEW', 'CLOSED', 'OVERDUE', 'REOPENED'] as const;

/** What nonconformances and tasks share: assignment, due date, approval and context. */
const ACTION_PROPERTIES = {
  status: { enum: ACTION_STATUSES },
  overdue: { type: 'boolean', description: "AuditComply's own overdue flag." },
  complete_by: { type: ['string', 'null'], format: 'date', description: 'Due date (a calendar date).' },
  approved_date: timestamp,
  created_at: timestamp,
  updated_at: text,
  assigned_to: userId,
  assigned_by: userId,
  approved_by: userId,
  assigned_to_user: nested,
  assigned_by_user: nested,
  approved_by_user: nested,
  asset: nested,
  category: { type: 'array', items: { type: 'object' } },
  score_response: text,
  template_name: text,
  audit_id: { ...text, description: 'The audit that raised it (a string in the API).' },
  parent_observation_id: userId,
  audit_completed_at: timestamp,
  custom_fields: { type: 'array', items: { type: 'object' } },
} as const;

const ACTION_REQUIRED = ['status', 'overdue', 'complete_by', 'created_at', 'updated_at', 'assigned_to', 'template_name', 'audit_id'] as const;

export const auditcomplyDatasets = {
  'auditcomply.audits': {
    description: 'Audits with their state, outcome and dates.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'status', 'state', 'compliant', 'asset_id', 'asset_name', 'created_at', 'updated_at', 'completed_at', 'closed_at', 'nc_count'],
      properties: {
        id: { type: 'integer' },
        name: { type: 'string' },
        status: text,
        status_color: text,
        state: { enum: AUDIT_STATES },
        compliant: { type: ['boolean', 'null'] },
        asset_id: userId,
        asset_name: text,
        auditor_id: userId,
        auditor: nested,
        created_at: timestamp,
        updated_at: text,
        completed_at: timestamp,
        published: timestamp,
        closed_at: timestamp,
        closed_by_id: userId,
        closed_notes: text,
        close_audit_enabled: { type: ['boolean', 'null'] },
        status_changed_on_close: { type: ['boolean', 'null'] },
        device: text,
        nc_count: { ...text, description: 'Number of nonconformances raised (a string in the API).' },
        template_tags: text,
        notes: text,
        report: { ...text, description: 'URL of the generated report.' },
      },
    },
  },
  'auditcomply.nonconformances': {
    description: 'Nonconformances raised by audits, with corrective actions, due dates and status.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['nonconformance_id', 'non_conformance', ...ACTION_REQUIRED],
      properties: {
        nonconformance_id: { type: 'integer' },
        non_conformance: { type: 'string', description: 'What was found.' },
        corrective_action: nested,
        preventative_action: nested,
        reopened_count: text,
        ...ACTION_PROPERTIES,
      },
    },
  },
  'auditcomply.tasks': {
    description: 'Tasks (actions assigned to people) with due dates and status.',
    record_schema: {
      type: 'object',
      additionalProperties: false,
      required: ['task_id', 'task', ...ACTION_REQUIRED],
      properties: {
        task_id: { type: 'integer' },
        task: { type: 'string', description: 'What is to be done.' },
        action: text,
        ...ACTION_PROPERTIES,
      },
    },
  },
} as const satisfies Record<string, { description: string; record_schema: Record<string, unknown> }>;
