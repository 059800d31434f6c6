import type { JsonSchema } from '../lib/json-schema.js';
import type { Logger } from '../lib/logger.js';
import type { OutboundHttp } from './http-client.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a connector is given to talk to its system: one connection's settings, opened per activity. */
export interface ConnectorContext {
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  http: OutboundHttp;
  log: Logger;
  signal?: AbortSignal;
  /** Called while a connector waits (rate limits, polling), so that a long wait is not mistaken for a dead worker. */
  heartbeat: () => void;
  /** Sleeps (interruptible by `signal`); injected so tests and benchmarks see real waits. */
  sleep: (ms: number) => Promise<void>;
}

export interface Page {
  records: JsonValue[];
  /** Where to continue after this page; null when the dataset is complete. Must be JSON. */
  next: JsonValue | null;
}

export interface CollectOptions {
  /**
   * Start of the last successful collection of this dataset on this connection by the same
   * collector (incremental datasets): a job's previous run, or for a collection on its own the
   * previous such collection. Null the first time (the connector reads its initial window).
   */
  since: string | null;
  /** Start of this collection. */
  now: Date;
}

export interface DatasetDefinition<Session> {
  description: string;
  record_schema: JsonSchema;
  /**
   * The dataset as pages, starting from `cursor` (null: the beginning). A collection that
   * resumes after a crash passes the `next` of the last page it stored, so each page must be
   * reproducible from its cursor.
   */
  pages(session: Session, cursor: JsonValue | null, options: CollectOptions): AsyncIterable<Page>;
}

export interface SourceConnector<Session = unknown> {
  type: string;
  name: string;
  description: string;
  configSchema: JsonSchema;
  secretsSchema: JsonSchema;
  /** Config fields that hold URLs: checked against the private-network guard. */
  urlFields: string[];
  /** The caller supplies the records with each run (`input` of POST /jobs/:id/runs) instead of the hub collecting them. */
  suppliedWithRun?: boolean;
  /** Opens a session: the one request helper (auth, token reuse, pacing) for this connection. */
  open(context: ConnectorContext): Session;
  /** A cheap authenticated call that throws a ConnectorError saying exactly what is wrong. */
  test(session: Session): Promise<void>;
  datasets: Record<string, DatasetDefinition<Session>>;
  /** Datasets a connection declares in its own config (the generic HTTP connector). */
  configuredDatasets?(config: Record<string, unknown>): Record<string, DatasetDefinition<Session>>;
}

/** A connection's datasets: the connector's own and those its config declares. */
export function datasetsOf<S>(connector: SourceConnector<S>, config: Record<string, unknown>): Record<string, DatasetDefinition<S>> {
  return { ...connector.datasets, ...connector.configuredDatasets?.(config) };
}

/** One evidence item as a destination receives it; the same values on every retry. */
export interface DeliveryItem {
  evidence_id: string;
  rule_id: string | null;
  control_ref: string;
  question_match: string | null;
  question_id: string | null;
  title: string;
  source: string;
  result: 'pass' | 'fail' | 'info';
  payload: Record<string, unknown>;
  payload_sha256: string;
  collected_at: string;
  allow_multiple: boolean;
  /** Stable per item: sent as Idempotency-Key where the destination accepts one. */
  idempotency_key: string;
}

export type DeliveryOutcome =
  | { status: 'delivered'; destination_ids: string[]; detail?: JsonValue }
  | { status: 'rejected'; error: string; http_status: number | null }
  | { status: 'ambiguous'; error: string; candidates: JsonValue[] };

/* A run as an activity trace, for destinations that take one (DestinationConnector.exportRunTrace). */
/** A run's state, as the hub's runs have it. */
export type RunTraceStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'cancelled';
/** An evidence item's delivery state, as the hub's ledger has it. */
export type RunTraceDeliveryStatus = 'pending' | 'delivered' | 'rejected' | 'ambiguous' | 'failed';

export interface RunTraceDataset {
  dataset: string;
  record_count: number;
  snapshot_id?: string | null;
}

export interface RunTraceEvidence {
  evidence_id: string;
  rule_id: string | null;
  control_ref: string;
  result: 'pass' | 'fail' | 'info' | 'error';
  delivery_status: RunTraceDeliveryStatus;
  title?: string;
  /** Why the delivery was rejected or failed. */
  error?: string | null;
}

/** What a trace-capable destination is told about one run. */
export interface RunTrace {
  run_id: string;
  job_id: string | null;
  status: RunTraceStatus;
  started_at: string | Date | null;
  ended_at: string | Date | null;
  datasets: readonly RunTraceDataset[];
  evidence: readonly RunTraceEvidence[];
  error?: string | null;
}

/**
 * A GRC platform evidence is delivered to. `deliver` answers delivered, rejected (a 4xx the
 * destination will answer again: not retried) or ambiguous, and throws a retryable
 * ConnectorError for what may pass (429, 5xx, timeouts), which Temporal retries.
 */
export interface DestinationConnector<Session = unknown> {
  type: string;
  name: string;
  description: string;
  configSchema: JsonSchema;
  secretsSchema: JsonSchema;
  /** The schema of a job's `target` (e.g. `{assessment_id}`). */
  targetSchema: JsonSchema;
  urlFields: string[];
  open(context: ConnectorContext): Session;
  test(session: Session): Promise<void>;
  deliver(session: Session, item: DeliveryItem, target: Record<string, unknown>): Promise<DeliveryOutcome>;
  /**
   * For destinations that cannot deduplicate (no idempotency key, no identity rule): whether
   * an earlier attempt whose outcome is unknown (its worker died between the request and
   * recording the answer, or the answer never came) already delivered this item. The delivery
   * activity asks before sending an item again: the delivered outcome when the destination
   * holds the item, null when it does not (the item is then sent). Throws a retryable
   * ConnectorError when the destination cannot answer now; any other failure to tell makes
   * the item be sent again (at least once).
   */
  findDelivered?(session: Session, item: DeliveryItem, target: Record<string, unknown>): Promise<Extract<DeliveryOutcome, { status: 'delivered' }> | null>;
  /**
   * Destinations that keep an activity stream (AgentAudit) also receive each finished run as
   * a trace of its steps. Idempotent: the same run sent twice logs nothing new.
   */
  exportRunTrace?(session: Session, trace: RunTrace, target: Record<string, unknown>): Promise<void>;
}

/**
 * The optional config field every HTTP connector accepts: the largest response, in MB, the hub
 * reads from this system (default HUB_MAX_RESPONSE_BYTES, 64 MB; at most the operator's
 * HUB_MAX_RESPONSE_BYTES_LIMIT). Applied by `OutboundHttp.forConnection` / `connectionContext`.
 */
export const maxResponseMbProperty: Record<string, JsonSchema> = {
  max_response_mb: {
    type: 'number', exclusiveMinimum: 0, maximum: 1_048_576,
    description: 'Largest response read from this system, in MB (default 64, HUB_MAX_RESPONSE_BYTES); capped by the operator\'s HUB_MAX_RESPONSE_BYTES_LIMIT. A larger answer fails the call with a clear error instead of filling the worker\'s memory.',
  },
};

/** A connector's context with the connection's own response cap (`max_response_mb`) applied. */
export function connectionContext(ctx: ConnectorContext): ConnectorContext {
  return { ...ctx, http: ctx.http.forConnection(ctx.config) };
}
