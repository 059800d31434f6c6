/** What the API hands a preview thread, and what it gets back: plain data, cloneable. */
export interface PreviewTask {
  /** The rules as written (compiled again in the thread: compiled rules hold functions). */
  rules: unknown[];
  /** Inline records by dataset, or stored snapshots by dataset (read in the thread). */
  data?: Record<string, unknown>;
  snapshots?: { dataset: string; sha256: string }[];
  nowMs: number;
  /** Published rules to compare with on the same data: the answer gains `comparison`. */
  compareRules?: unknown[];
  /** Instead of the evaluation: one page of one rule's failing records (all of them, not the capped payload list). */
  failing?: { ruleId: string; offset: number; limit: number };
  /** Largest response, in bytes of JSON. */
  maxResponseBytes: number;
  /**
   * Int32Array over a SharedArrayBuffer: [0] the index of the rule being evaluated (written by
   * the thread), [1] set to 1 by the API when the caller went away (the thread stops at the
   * next rule and keeps its snapshot cache, which terminating it would lose).
   */
  progress: SharedArrayBuffer;
}

export type PreviewOutcome =
  | { kind: 'ok'; json: string }
  | { kind: 'too_large'; bytes: number }
  | { kind: 'unreadable'; message: string }
  | { kind: 'cancelled' };
