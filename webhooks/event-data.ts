import type { Evidence } from '../store/evidence.js';
import type { Run } from '../store/runs.js';
import { NO_COUNTS } from '../store/runs.js';

/** The `data` of each event, built from the rows that caused it (schemas in catalog.ts). */

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function runEventData(run: Run): Record<string, unknown> {
  return {
    run_id: run.id, job_id: run.job_id, trigger: run.trigger, status: run.status, mapping_id: run.mapping_id, mapping_version: run.mapping_version,
    counts: { ...NO_COUNTS, ...run.counts }, error: run.error, started_at: iso(run.started_at), ended_at: iso(run.ended_at),
  };
}

export function runEventType(run: Run): 'run.completed' | 'run.failed' {
  return run.status === 'succeeded' || run.status === 'partial' ? 'run.completed' : 'run.failed';
}

export function evidenceEventData(e: Evidence): Record<string, unknown> {
  return {
    evidence_id: e.id, run_id: e.run_id, job_id: e.job_id, rule_id: e.rule_id, destination_id: e.destination_id,
    control_ref: e.control_ref, question_match: e.question_match, title: e.title, source: e.source, result: e.result,
    collected_at: iso(e.collected_at), payload_sha256: e.payload_sha256, status: e.status,
  };
}

/** The event a settled ledger item emits, if any. */
export function settledEvidenceEvent(e: Evidence): { type: 'evidence.added' | 'evidence.rejected' | 'evidence.ambiguous'; data: Record<string, unknown> } | null {
  if (e.status === 'delivered') return { type: 'evidence.added', data: { ...evidenceEventData(e), destination_evidence_ids: e.destination_evidence_ids ?? [] } };
  if (e.status === 'rejected' || e.status === 'failed') return { type: 'evidence.rejected', data: { ...evidenceEventData(e), error: e.error ?? 'rejected' } };
  if (e.status === 'ambiguous') return { type: 'evidence.ambiguous', data: { ...evidenceEventData(e), candidates: e.candidates ?? [], error: e.error } };
  return null;
}
