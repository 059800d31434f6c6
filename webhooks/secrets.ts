import type { Queryable } from '../store/db.js';
import type { SecretStore } from '../store/secrets.js';
import type { Webhook } from '../store/webhooks.js';
import { WebhookStore } from '../store/webhooks.js';
import { generateWebhookSecret } from './signature.js';

const owner = (w: Pick<Webhook, 'workspace_id' | 'id'>) => ({ workspaceId: w.workspace_id, type: 'webhook', id: w.id });

/** The secrets that sign a delivery now: the current one, and the previous one during its grace period. */
export async function signingSecrets(secrets: SecretStore, endpoint: Webhook, now = new Date()): Promise<string[]> {
  const values = await secrets.get(owner(endpoint));
  const out = values.secret ? [values.secret] : [];
  if (values.previous_secret && endpoint.previous_secret_expires_at && new Date(endpoint.previous_secret_expires_at) > now) out.push(values.previous_secret);
  return out;
}

/** Seals a new endpoint's first secret (inside the transaction that creates it) and returns it, to be shown once. */
export async function issueSecret(secrets: SecretStore, endpoint: Pick<Webhook, 'workspace_id' | 'id'>, tx: Queryable): Promise<string> {
  const secret = generateWebhookSecret();
  await secrets.put(owner(endpoint), { secret }, tx);
  return secret;
}

/**
 * Rotates an endpoint's secret: the current one becomes the previous one and keeps signing
 * (alongside the new one) for `graceMs`, so receivers can switch without missing a delivery.
 * Run in a transaction that holds the endpoint's row lock.
 */
export async function rotateSecret(secrets: SecretStore, endpoint: Webhook, graceMs: number, tx: Queryable): Promise<{ secret: string; previousExpiresAt: Date | null }> {
  const current = (await secrets.get(owner(endpoint), tx)).secret;
  const secret = generateWebhookSecret();
  const previousExpiresAt = current && graceMs > 0 ? new Date(Date.now() + graceMs) : null;
  await secrets.put(owner(endpoint), current ? { secret, previous_secret: current } : { secret }, tx);
  await new WebhookStore(tx).setPreviousSecretExpiry(endpoint.id, previousExpiresAt);
  return { secret, previousExpiresAt };
}

/** Where a flow subscription's callback URL is sealed (the secrets table's owner type). */
export const FLOW_CALLBACK_OWNER = 'power_automate_callback';
const callbackOwner = (w: Pick<Webhook, 'workspace_id' | 'id'>) => ({ workspaceId: w.workspace_id, type: FLOW_CALLBACK_OWNER, id: w.id });

/** Seals a flow subscription's callback URL (it carries the flow's signature in its query). */
export async function sealCallbackUrl(secrets: SecretStore, endpoint: Pick<Webhook, 'workspace_id' | 'id'>, url: string, tx: Queryable): Promise<void> {
  await secrets.put(callbackOwner(endpoint), { url }, tx);
}

/**
 * Where deliveries to an endpoint go: its URL, or for a flow subscription the sealed callback
 * URL (null when it is gone).
 */
export async function deliveryUrl(secrets: SecretStore, endpoint: Webhook): Promise<string | null> {
  if (endpoint.kind !== 'power_automate') return endpoint.url;
  return (await secrets.get(callbackOwner(endpoint))).url ?? null;
}

export async function removeCallbackUrl(secrets: SecretStore, endpoint: Pick<Webhook, 'workspace_id' | 'id'>, tx: Queryable): Promise<void> {
  await secrets.remove(callbackOwner(endpoint), tx);
}
