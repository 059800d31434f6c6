/** What the API hands a preview thread, and what it gets back: plain data, cloneable. */
export interface PreviewTask {
  /** The rules as written (compiled again in the thread: compiled rules hold functions). */
  rules: unknown[];
  /** Inline records by dataset, or stored snapshots by dataset (read in the thread). */
  data?: Record<string, unknown>;
  snapshots?: { dataset: string; sha256: string }[];
  nowMs: number;
  /** Largest response, in bytes of JSON. */
  maxResponseBytes: number;
  /** The index of the rule being evaluated is written here (Int32Array over a SharedArrayBuffer). */
  progress: SharedArrayBuffer;
}

export type PreviewOutcome =
  | { kind: 'ok'; json: string }
  | { kind: 'too_large'; bytes: number }
  | { kind: 'unreadable'; message: string };
