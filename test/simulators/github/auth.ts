// GitHub's credentials as its docs describe them: a GitHub App signs a JWT
// (RS256; `iat`, `exp` no more than 10 minutes ahead, `iss` the App ID) and
// exchanges it at POST /app/installations/{installation_id}/access_tokens for
// an installation access token (`ghs_…`, valid one hour, `expires_at`), or a
// fine-grained personal access token (`github_pat_…`). Either is sent as
// `Authorization: Bearer <token>` (or `token <token>`). What the credential may
// read is its permissions (App permission names: members,
// organization_administration, administration, vulnerability_alerts,
// secret_scanning_alerts; metadata always) and whether it has an
// organization owner's view (two_factor_requirement_enabled, filter=2fa_disabled).

import { createPublicKey, KeyObject, randomBytes, verify } from 'node:crypto';
import { jsonResponse, type SimRequest, type SimResponse } from '../common/server.js';

export type GitHubPermission = 'members' | 'organization_administration' | 'administration' | 'vulnerability_alerts' | 'secret_scanning_alerts';
export const ALL_PERMISSIONS: readonly GitHubPermission[] = ['members', 'organization_administration', 'administration', 'vulnerability_alerts', 'secret_scanning_alerts'];

export interface GitHubInstallation {
  id: number;
  /** Permissions granted to the installation (read). Default: all of ALL_PERMISSIONS. */
  permissions?: readonly GitHubPermission[];
  /** Sees what an organization owner sees (default: when granted organization_administration). */
  owner?: boolean;
}

export interface GitHubAppRegistration {
  appId: number;
  /** The App's public key (PEM or KeyObject); JWTs are checked against it. */
  publicKey: string | KeyObject;
  installations: readonly GitHubInstallation[];
}

export interface GitHubTokenRegistration {
  token: string;
  permissions?: readonly GitHubPermission[];
  /** The token's user is an organization owner (default true). */
  owner?: boolean;
}

export interface GitHubPrincipal {
  kind: 'installation' | 'token';
  installationId?: number;
  permissions: ReadonlySet<GitHubPermission>;
  owner: boolean;
}

interface IssuedToken extends GitHubPrincipal {
  expiresAtMs: number;
}

export const DOCS = 'https://docs.github.com/rest';

export function githubError(status: number, message: string, headers: Record<string, string> = {}, documentation = DOCS): SimResponse {
  return jsonResponse(status, { message, documentation_url: documentation, status: String(status) }, headers);
}

export class GitHubCredentials {
  tokensIssued = 0;
  private readonly apps = new Map<string, { key: KeyObject; installations: Map<number, GitHubInstallation> }>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly patTokens = new Map<string, GitHubPrincipal>();

  constructor(apps: readonly GitHubAppRegistration[], pats: readonly GitHubTokenRegistration[], private readonly ttlSeconds: number, private readonly clock: () => number) {
    for (const app of apps) {
      this.apps.set(String(app.appId), {
        key: app.publicKey instanceof KeyObject ? app.publicKey : createPublicKey(app.publicKey),
        installations: new Map(app.installations.map((i) => [i.id, i])),
      });
    }
    for (const pat of pats) {
      this.patTokens.set(pat.token, { kind: 'token', permissions: new Set(pat.permissions ?? ALL_PERMISSIONS), owner: pat.owner ?? true });
    }
  }

  /** Makes every installation token issued so far expire now (a token that runs out mid-collection). */
  expireAll(): void {
    const now = this.clock();
    for (const token of this.tokens.values()) token.expiresAtMs = Math.min(token.expiresAtMs, now);
  }

  /** Who a request's Authorization header is, or the 401 GitHub answers. */
  principal(req: SimRequest): GitHubPrincipal | SimResponse {
    const header = req.headers.authorization ?? '';
    const match = /^(?:Bearer|token) (\S+)$/i.exec(header);
    if (!match) return githubError(401, 'Requires authentication');
    const value = match[1]!;
    const pat = this.patTokens.get(value);
    if (pat) return pat;
    const issued = this.tokens.get(value);
    if (!issued || issued.expiresAtMs <= this.clock()) return githubError(401, 'Bad credentials');
    return issued;
  }

  /** POST /app/installations/{id}/access_tokens, authenticated by the App's JWT. */
  accessToken(req: SimRequest, installationId: number): SimResponse {
    const header = req.headers.authorization ?? '';
    const jwt = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!jwt) return githubError(401, 'A JSON web token could not be decoded');
    const [h, c, s] = jwt.split('.');
    const head = decode(h);
    const claims = decode(c);
    if (!head || !claims || !s) return githubError(401, 'A JSON web token could not be decoded');
    if (head.alg !== 'RS256') return githubError(401, `'alg' must be RS256, got ${String(head.alg)}`);
    const app = this.apps.get(String(claims.iss));
    if (!app) return githubError(401, `'Issuer' claim ('iss') must be an Integer or a client ID of a GitHub App; no App ${String(claims.iss)}`);
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), app.key, Buffer.from(s, 'base64url'))) return githubError(401, 'A JSON web token could not be decoded');
    const now = Math.floor(this.clock() / 1000);
    if (typeof claims.iat !== 'number' || !Number.isInteger(claims.iat)) return githubError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.");
    if (typeof claims.exp !== 'number' || !Number.isInteger(claims.exp)) return githubError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    if (claims.iat > now + 60) return githubError(401, "'Issued at' claim ('iat') must be an Integer representing a time in the past.");
    if (claims.exp <= now) return githubError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.");
    if (claims.exp > now + 600) return githubError(401, "'Expiration time' claim ('exp') is too far in the future.");
    const installation = app.installations.get(installationId);
    if (!installation) return githubError(404, 'Not Found', {}, `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`);
    const token = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    const permissions = new Set(installation.permissions ?? ALL_PERMISSIONS);
    const expiresAtMs = this.clock() + this.ttlSeconds * 1000;
    this.tokens.set(token, { kind: 'installation', installationId, permissions, owner: installation.owner ?? permissions.has('organization_administration'), expiresAtMs });
    this.tokensIssued += 1;
    return jsonResponse(201, {
      token, expires_at: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      permissions: Object.fromEntries(['metadata', ...permissions].map((p) => [p, 'read'])), repository_selection: 'all',
    });
  }
}

function decode(part: string | undefined): Record<string, unknown> | null {
  if (!part) return null;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
