import type { Logger } from '../lib/logger.js';
import { urlBinding } from '../lib/url-binding.js';
import { SecretsBoundElsewhere, type SecretOwner, type SecretStore } from '../store/secrets.js';
import { ConnectorError } from './errors.js';
import type { OutboundHttp } from './http-client.js';
import type { ConnectorContext } from './types.js';

/**
 * A connection's or destination's secrets, opened only for the URLs they were entered with.
 * Secrets bound to other URLs (a config re-pointed behind the API's back) are never handed to
 * the connector: the call fails as a configuration error an admin can act on.
 */
export async function secretsForConfig(
  store: SecretStore,
  owner: SecretOwner,
  connector: { name: string; urlFields: readonly string[] },
  config: Record<string, unknown>,
): Promise<Record<string, string>> {
  try {
    return await store.get(owner, undefined, urlBinding(connector.urlFields, config));
  } catch (err) {
    if (!(err instanceof SecretsBoundElsewhere)) throw err;
    throw new ConnectorError('bad_config', `${connector.name}: ${err.message} (PATCH the ${owner.type} with its secrets).`);
  }
}

/** What opening any connector's session needs from the hub. */
export interface SessionDeps {
  secrets: SecretStore;
  http: OutboundHttp;
  logger: Logger;
}

/** A source or destination connector, as far as opening a session goes. */
interface Openable<Session> {
  name: string;
  urlFields: readonly string[];
  open(context: ConnectorContext): Session;
}

/**
 * The one way a connector session is opened, for collection, delivery and connection tests
 * alike: the secrets opened for the URLs of this config only (else a `bad_config` error and
 * nothing sent), and the caller's way of waiting, heartbeating and being cancelled.
 */
export async function openSession<Session>(
  deps: SessionDeps,
  connector: Openable<Session>,
  target: { owner: SecretOwner; config: Record<string, unknown> },
  how: Pick<ConnectorContext, 'heartbeat' | 'sleep' | 'signal'> & { log?: Logger; http?: OutboundHttp },
): Promise<Session> {
  const secrets = await secretsForConfig(deps.secrets, target.owner, connector, target.config);
  return connector.open({
    config: target.config, secrets, http: how.http ?? deps.http,
    log: how.log ?? deps.logger.child({ [`${target.owner.type}_id`]: target.owner.id }),
    signal: how.signal, heartbeat: how.heartbeat, sleep: how.sleep,
  });
}
