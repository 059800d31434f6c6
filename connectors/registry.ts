import type { DestinationConnector, SourceConnector } from './types.js';

// Each connector has its own session type; the registry only hands sessions back to the
// connector that opened them, so it can hold them all under one erased type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySourceConnector = SourceConnector<any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDestinationConnector = DestinationConnector<any>;

/**
 * The one place connectors are registered. Adding a source means adding its folder under
 * connectors/ and one line here.
 */
export class ConnectorRegistry {
  private readonly sources = new Map<string, AnySourceConnector>();
  private readonly destinations = new Map<string, AnyDestinationConnector>();

  constructor(sources: AnySourceConnector[], destinations: AnyDestinationConnector[] = []) {
    for (const source of sources) this.sources.set(source.type, source);
    for (const destination of destinations) this.destinations.set(destination.type, destination);
  }

  destination(type: string): AnyDestinationConnector | undefined {
    return this.destinations.get(type);
  }

  listDestinations(): AnyDestinationConnector[] {
    return [...this.destinations.values()];
  }

  source(type: string): AnySourceConnector | undefined {
    return this.sources.get(type);
  }

  listSources(): AnySourceConnector[] {
    return [...this.sources.values()];
  }
}
