import { createPrivateKey, sign } from 'node:crypto';
import { ConnectorError } from '../errors.js';

/**
 * The JWT a GitHub App authenticates as itself with (GitHub's "Generating a JSON Web Token
 * for a GitHub App"): RS256, `iss` = the App ID, `iat` 60 seconds in the past (clock drift),
 * `exp` at most 10 minutes ahead (here 9). Used only to request installation tokens.
 */
export function appJwt(input: { appId: string | number; privateKeyPem: string; nowMs?: number }): string {
  let key;
  try {
    key = createPrivateKey(input.privateKeyPem);
  } catch {
    throw new ConnectorError('bad_config', 'GitHub: the private_key secret is not a valid PEM private key (download it again from the GitHub App’s settings).', { system: 'GitHub' });
  }
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const header = encode({ alg: 'RS256', typ: 'JWT' });
  const payload = encode({ iat: now - 60, exp: now + 540, iss: String(input.appId) });
  const signature = sign('RSA-SHA256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
