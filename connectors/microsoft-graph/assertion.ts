import { constants, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { ConnectorError } from '../errors.js';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * A certificate credential for the Microsoft identity platform: a JWT with iss = sub = the
 * client id, aud = the token endpoint, a short life and a unique jti, signed with the
 * certificate's private key. A SHA-1 thumbprint goes in `x5t` with RS256; a SHA-256 one in
 * `x5t#S256` with PS256 (RSA-PSS), as the platform's certificate-credentials page describes.
 */
export function certificateAssertion(input: { clientId: string; tokenUrl: string; privateKeyPem: string; thumbprint: string; nowMs?: number }): string {
  let key: KeyObject;
  try {
    key = createPrivateKey(input.privateKeyPem);
  } catch {
    throw new ConnectorError('bad_config', 'Microsoft Graph: the private_key secret is not a valid PEM private key.');
  }
  const hex = input.thumbprint.replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    throw new ConnectorError('bad_config', 'Microsoft Graph: certificate_thumbprint must be the SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint of the certificate.');
  }
  const sha256 = hex.length === 64;
  const thumb = Buffer.from(hex, 'hex').toString('base64url');
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const header = encode(sha256 ? { alg: 'PS256', typ: 'JWT', 'x5t#S256': thumb } : { alg: 'RS256', typ: 'JWT', x5t: thumb });
  const payload = encode({ aud: input.tokenUrl, iss: input.clientId, sub: input.clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 300 });
  const signingInput = Buffer.from(`${header}.${payload}`);
  const signature = sha256
    ? sign('sha256', signingInput, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign('sha256', signingInput, key);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}
