/** Outbound webhooks (docs/architecture.md, "Delivery"). */
export interface WebhookConfig {
  /** Waits before each retry; the first attempt is immediate. */
  retryScheduleMs: number[];
  /** Each wait is spread by up to ± this fraction, so retries to one receiver do not arrive in step. */
  retryJitter: number;
  /** An endpoint with no success for this long while failing is disabled. */
  disableAfterMs: number;
  requestTimeoutMs: number;
  /** Requests in flight to one endpoint, per worker process. */
  maxInFlightPerEndpoint: number;
  /** How long the secret before a rotation still signs deliveries. */
  secretGraceMs: number;
  httpsOnly: boolean;
  /** How often the dispatcher looks for new deliveries when idle. */
  dispatchIntervalMs: number;
}
