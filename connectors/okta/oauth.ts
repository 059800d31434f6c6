import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { ConnectorError } from '../errors.js';

/**
 * A client assertion for Okta's OAuth 2.0 service apps ("private_key_jwt"): an RS256 JWT
 * with iss = sub = client id and aud = the token endpoint, valid for five minutes.
 */
export function clientAssertion(input: { clientId: string; tokenUrl: string; privateKeyPem: string; keyId?: string; nowMs?: number }): string {
  let key;
  try {
    key = createPrivateKey(input.privateKeyPem);
  } catch {
    throw new ConnectorError('bad_config', 'Okta: the private key is not a valid PEM private key.');
  }
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const header = encode({ alg: 'RS256', typ: 'JWT', ...(input.keyId ? { kid: input.keyId } : {}) });
  const payload = encode({ iss: input.clientId, sub: input.clientId, aud: input.tokenUrl, iat: now, exp: now + 300, jti: randomUUID() });
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
