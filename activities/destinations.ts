import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ConnectorError } from '../connectors/errors.js';
import type { OutboundHttp } from '../connectors/http-client.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import { openSession } from '../connectors/session.js';
import type { DestinationConnector } from '../connectors/types.js';
import type { Logger } from '../lib/logger.js';
import type { Connection, ConnectionStore } from '../store/connections.js';
import type { SecretStore } from '../store/secrets.js';

export interface DestinationDeps {
  destinations: ConnectionStore;
  secrets: SecretStore;
  http: OutboundHttp;
  registry: ConnectorRegistry;
  logger: Logger;
}

/** A destination with its connector and a session opened for one activity. */
export interface OpenDestination {
  destination: Connection;
  connector: DestinationConnector;
  session: unknown;
}

/** Turns a destination's retryable failure into a Temporal retry that honours Retry-After. */
export function retryable(err: ConnectorError): never {
  throw ApplicationFailure.create({
    message: err.message,
    type: `destination.${err.kind}`,
    nonRetryable: false,
    ...(err.details.retryAfterMs !== undefined ? { nextRetryDelay: Math.max(1, err.details.retryAfterMs) } : {}),
  });
}

/** A destination's connector and an open session on it, or null when either is gone. */
export async function openDestination(deps: DestinationDeps, workspaceId: string, destinationId: string | null, log: Record<string, string> = {}): Promise<OpenDestination | null> {
  const destination = destinationId ? await deps.destinations.get(workspaceId, destinationId) : null;
  const connector = destination ? deps.registry.destination(destination.type) : undefined;
  if (!destination || !connector) return null;
  const ctx = Context.current();
  const session = await openSession(deps, connector, { owner: { workspaceId, type: 'destination', id: destination.id }, config: destination.config }, {
    log: deps.logger.child({ destination_id: destination.id, ...log }), signal: ctx.cancellationSignal, heartbeat: () => ctx.heartbeat(), sleep: (ms) => ctx.sleep(ms),
  });
  return { destination, connector, session };
}

