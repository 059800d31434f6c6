import { urlBinding } from '../lib/url-binding.js';
import { SecretsBoundElsewhere, type SecretOwner, type SecretStore } from '../store/secrets.js';
import { ConnectorError } from './errors.js';

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
