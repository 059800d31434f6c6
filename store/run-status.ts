// A run's statuses and counts: shared by the run rows and the events they emit.
export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_RUN_STATUSES: RunStatus[] = ['succeeded', 'partial', 'failed', 'cancelled'];

export interface RunCounts {
  collected: number;
  evidence: number;
  delivered: number;
  rejected: number;
  ambiguous: number;
  failed: number;
}

/** The counts of a run that delivered nothing (yet). */
export const NO_COUNTS: RunCounts = { collected: 0, evidence: 0, delivered: 0, rejected: 0, ambiguous: 0, failed: 0 };
