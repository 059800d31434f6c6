// GitHub's REST API as its public reference describes the endpoints a
// compliance connector reads: page/per_page paging (per_page ≤ 100, default
// 30) with an absolute `Link` header (rel next, last, first, prev), Dependabot's
// organization alerts paged by an opaque `after` cursor, `x-ratelimit-limit`,
// `-remaining`, `-used`, `-reset` (UTC epoch seconds) and `-resource` on every
// answer, the primary limit answered 403 with x-ratelimit-remaining 0 ("API
// rate limit exceeded"), secondary limits 403 or 429 with `retry-after`, and
// errors as `{"message", "documentation_url", "status"}`.

import { jsonResponse, type SimRequest, type SimResponse, type VendorBehaviour } from '../common/server.js';
import type { RateWindow } from '../common/rate-limit.js';
import { iso } from '../common/time.js';
import { DOCS, githubError, type GitHubCredentials, type GitHubPermission, type GitHubPrincipal } from './auth.js';
import type { GitHubOrgData, SimRepository } from './org.js';

export interface SecondaryLimit {
  retryAfterSeconds: number | null;
  status: 403 | 429;
  remaining: number;
  path?: string;
}

export interface GitHubApiState {
  org: GitHubOrgData;
  credentials: GitHubCredentials;
  /** '' on github.com; '/api/v3' for GitHub Enterprise Server. */
  pathPrefix: string;
  /** API requests left before every installation token expires; null: off. */
  expireTokensAfter: { remaining: number } | null;
  /** Armed secondary-limit answers. */
  secondary: SecondaryLimit[];
  /** GitHub Free: branch protection is unavailable on private repositories (403 "Upgrade to GitHub Pro…"). */
  plan: 'free' | 'team' | 'enterprise';
}

const SECONDARY_MESSAGE = 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.';

export function githubBucketOf(path: string): string {
  return /\/app\/installations\/\d+\/access_tokens$/.test(path) ? 'app' : 'core';
}

interface Route {
  pattern: RegExp;
  /** What the credential needs beyond metadata. */
  permission?: GitHubPermission;
  handle(req: SimRequest, params: string[], who: GitHubPrincipal): SimResponse;
}

export function githubApi(state: GitHubApiState): VendorBehaviour {
  const { org } = state;

  /** page/per_page over a list, with GitHub's Link header on the request's own URL. */
  function paged<T>(req: SimRequest, items: readonly T[], render: (item: T) => unknown): SimResponse {
    const perPage = Number(req.query.get('per_page') ?? 30);
    const page = Number(req.query.get('page') ?? 1);
    if (!Number.isInteger(perPage) || perPage < 1 || !Number.isInteger(page) || page < 1) return githubError(422, 'Validation Failed');
    const size = Math.min(perPage, 100);
    const last = Math.max(1, Math.ceil(items.length / size));
    const linkTo = (n: number) => {
      const query = new URLSearchParams(req.query);
      query.set('page', String(n));
      return `${req.origin}${req.path}?${query.toString()}`;
    };
    const links: string[] = [];
    if (page < last) links.push(`<${linkTo(page + 1)}>; rel="next"`, `<${linkTo(last)}>; rel="last"`);
    if (page > 1) links.push(`<${linkTo(1)}>; rel="first"`, `<${linkTo(page - 1)}>; rel="prev"`);
    const body = items.slice((page - 1) * size, page * size).map(render);
    return jsonResponse(200, body, links.length ? { Link: links.join(', ') } : {});
  }

  const orgOf = (login: string) => login.toLowerCase() === org.login.toLowerCase();
  const notFound = () => githubError(404, 'Not Found');
  const user = (u: { id: number; login: string }) => ({ login: u.login, id: u.id, node_id: Buffer.from(`04:User${u.id}`).toString('base64'), type: 'User', site_admin: false, url: `https://api.github.com/users/${u.login}` });
  const repoUrl = (repo: SimRepository) => `${org.login}/${repo.name}`;

  const routes: Route[] = [
    {
      pattern: /^\/orgs\/([^/]+)$/,
      handle: (_req, [login], who) => {
        if (!orgOf(login!)) return notFound();
        return jsonResponse(200, {
          login: org.login, id: 4_200_000, node_id: 'O_kgDOAEAJwA', name: `${org.login} Inc.`, type: 'Organization', created_at: iso(org.nowMs - 2_000 * 86_400_000).replace(/\.\d{3}Z$/, 'Z'),
          public_repos: org.repositories.filter((r) => r.visibility === 'public').length,
          // Owners only, as GitHub: the field is not in the answer for anybody else.
          ...(who.owner ? { two_factor_requirement_enabled: org.twoFactorRequired, default_repository_permission: 'read', members_can_create_public_repositories: false } : {}),
        });
      },
    },
    {
      pattern: /^\/orgs\/([^/]+)\/members$/,
      permission: 'members',
      handle: (req, [login], who) => {
        if (!orgOf(login!)) return notFound();
        const filter = req.query.get('filter') ?? 'all';
        const role = req.query.get('role') ?? 'all';
        if (!['all', '2fa_disabled', '2fa_insecure'].includes(filter) || !['all', 'admin', 'member'].includes(role)) return githubError(422, 'Validation Failed');
        if (filter !== 'all' && !who.owner) return githubError(422, 'Only owners can use this filter.', {}, `${DOCS}/orgs/members#list-organization-members`);
        const listed = org.members.filter((m) => (role === 'all' || m.role === role) && (filter !== '2fa_disabled' || !m.twoFactor) && filter !== '2fa_insecure');
        return paged(req, listed, user);
      },
    },
    {
      pattern: /^\/orgs\/([^/]+)\/outside_collaborators$/,
      permission: 'members',
      handle: (req, [login], who) => {
        if (!orgOf(login!)) return notFound();
        const filter = req.query.get('filter') ?? 'all';
        if (filter !== 'all' && !who.owner) return githubError(422, 'Only owners can use this filter.', {}, `${DOCS}/orgs/outside-collaborators`);
        return paged(req, org.collaborators.filter((c) => filter !== '2fa_disabled' || !c.twoFactor), user);
      },
    },
    {
      pattern: /^\/orgs\/([^/]+)\/repos$/,
      handle: (req, [login]) => {
        if (!orgOf(login!)) return notFound();
        const type = req.query.get('type') ?? 'all';
        const listed = org.repositories.filter((r) => type === 'all' || (type === 'public' ? r.visibility === 'public' : type === 'private' ? r.visibility !== 'public' : type === 'forks' ? r.fork : type === 'sources' ? !r.fork : true));
        return paged(req, listed, (r) => ({
          id: r.id, node_id: `R_${r.id}`, name: r.name, full_name: repoUrl(r), private: r.visibility !== 'public', visibility: r.visibility,
          owner: { login: org.login, id: 4_200_000, type: 'Organization' }, fork: r.fork, archived: r.archived, disabled: false, default_branch: r.defaultBranch,
          created_at: iso(r.createdMs).replace(/\.\d{3}Z$/, 'Z'), pushed_at: iso(r.pushedMs).replace(/\.\d{3}Z$/, 'Z'),
          permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
        }));
      },
    },
    {
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/branches\/(.+)\/protection$/,
      permission: 'administration',
      handle: (_req, [owner, name, branch]) => {
        const repo = orgOf(owner!) ? org.repository(name!) : undefined;
        if (!repo) return notFound();
        if (state.plan === 'free' && repo.visibility !== 'public') return githubError(403, 'Upgrade to GitHub Pro or make this repository public to enable this feature.', {}, `${DOCS}/branches/branch-protection#get-branch-protection`);
        if (decodeURIComponent(branch!) !== repo.defaultBranch) return githubError(404, 'Branch not found', {}, `${DOCS}/branches/branch-protection#get-branch-protection`);
        if (repo.protection === 'none' || repo.protection === 'ruleset') return githubError(404, 'Branch not protected', {}, `${DOCS}/branches/branch-protection#get-branch-protection`);
        const url = `https://api.github.com/repos/${repoUrl(repo)}/branches/${repo.defaultBranch}/protection`;
        return jsonResponse(200, {
          url,
          required_status_checks: { url: `${url}/required_status_checks`, strict: true, contexts: ['ci'], checks: [{ context: 'ci', app_id: null }] },
          ...(repo.protection === 'reviews' ? { required_pull_request_reviews: { url: `${url}/required_pull_request_reviews`, dismiss_stale_reviews: true, require_code_owner_reviews: false, require_last_push_approval: false, required_approving_review_count: repo.reviewCount } } : {}),
          enforce_admins: { url: `${url}/enforce_admins`, enabled: true },
          required_linear_history: { enabled: false }, allow_force_pushes: { enabled: false }, allow_deletions: { enabled: false },
        });
      },
    },
    {
      pattern: /^\/repos\/([^/]+)\/([^/]+)\/rules\/branches\/(.+)$/,
      handle: (req, [owner, name, branch]) => {
        const repo = orgOf(owner!) ? org.repository(name!) : undefined;
        if (!repo) return notFound();
        const rules: unknown[] = [];
        if (!repo.archived && decodeURIComponent(branch!) === repo.defaultBranch) {
          // Every repository has an org ruleset forbidding deletion (not a review requirement).
          rules.push({ type: 'deletion', ruleset_source_type: 'Organization', ruleset_source: org.login, ruleset_id: 7 });
          if (repo.protection === 'ruleset' && !(state.plan === 'free' && repo.visibility !== 'public')) {
            rules.push({
              type: 'pull_request', ruleset_source_type: 'Repository', ruleset_source: repoUrl(repo), ruleset_id: 100 + repo.id,
              parameters: { required_approving_review_count: repo.reviewCount, dismiss_stale_reviews_on_push: true, require_code_owner_review: false, require_last_push_approval: false, required_review_thread_resolution: false },
            });
          }
        }
        return paged(req, rules, (r) => r);
      },
    },
    {
      pattern: /^\/orgs\/([^/]+)\/dependabot\/alerts$/,
      permission: 'vulnerability_alerts',
      handle: (req, [login]) => {
        if (!orgOf(login!)) return notFound();
        const states = (req.query.get('state') ?? 'auto_dismissed,dismissed,fixed,open').split(',');
        const listed = org.dependabot.filter((a) => states.includes(a.state));
        const perPage = Math.min(Number(req.query.get('per_page') ?? 30), 100);
        if (req.query.has('page')) return githubError(400, 'Pagination using the `page` parameter is not supported.');
        // `after`: an opaque cursor (here the base64 of the last alert number served).
        const after = req.query.get('after');
        let start = 0;
        if (after !== null) {
          const last = Number(Buffer.from(after, 'base64url').toString('utf8').replace(/^n/, ''));
          if (!Number.isInteger(last)) return githubError(400, 'Invalid cursor');
          start = listed.findIndex((a) => a.number > last);
          if (start < 0) start = listed.length;
        }
        const slice = listed.slice(start, start + perPage);
        const headers: Record<string, string> = {};
        if (start + perPage < listed.length && slice.length) {
          const query = new URLSearchParams(req.query);
          query.set('after', Buffer.from(`n${slice.at(-1)!.number}`).toString('base64url'));
          headers.Link = `<${req.origin}${req.path}?${query.toString()}>; rel="next"`;
        }
        return jsonResponse(200, slice.map((a) => ({
          number: a.number, state: a.state, created_at: iso(a.createdMs).replace(/\.\d{3}Z$/, 'Z'), updated_at: iso(a.createdMs).replace(/\.\d{3}Z$/, 'Z'),
          dependency: { package: { ecosystem: a.ecosystem, name: a.packageName }, manifest_path: a.manifestPath, scope: 'runtime' },
          security_advisory: { ghsa_id: a.ghsaId, cve_id: a.cveId, summary: a.summary, severity: a.severity },
          security_vulnerability: { package: { ecosystem: a.ecosystem, name: a.packageName }, severity: a.severity, vulnerable_version_range: '< 9.9.9' },
          repository: { full_name: a.repository, name: a.repository.split('/')[1] },
          html_url: `https://github.com/${a.repository}/security/dependabot/${a.number}`,
        })), headers);
      },
    },
    {
      pattern: /^\/orgs\/([^/]+)\/secret-scanning\/alerts$/,
      permission: 'secret_scanning_alerts',
      handle: (req, [login]) => {
        if (!orgOf(login!)) return notFound();
        const state = req.query.get('state');
        return paged(req, org.secrets.filter((a) => !state || a.state === state), (a) => ({
          number: a.number, state: a.state, created_at: iso(a.createdMs).replace(/\.\d{3}Z$/, 'Z'), secret_type: a.secretType, secret_type_display_name: a.displayName,
          // GitHub returns the leaked secret itself: a connector must not keep it.
          secret: a.secret, validity: 'unknown', push_protection_bypassed: false, resolution: a.state === 'resolved' ? 'revoked' : null,
          repository: { full_name: a.repository, name: a.repository.split('/')[1] },
        }));
      },
    },
  ];

  return {
    bucketOf: (req) => githubBucketOf(req.path),
    rateLimitHeaders: (window: RateWindow) => ({
      'x-ratelimit-limit': String(window.limit),
      'x-ratelimit-remaining': String(window.remaining),
      'x-ratelimit-used': String(window.limit - window.remaining),
      'x-ratelimit-reset': String(Math.ceil(window.resetAtMs / 1000)),
      'x-ratelimit-resource': 'core',
    }),
    // The primary limit: GitHub answers 403 (or 429) with remaining 0 and the reset.
    rateLimitedResponse: (window, req) => githubError(403, `API rate limit exceeded for ${req.headers.authorization?.includes('ghs_') ? 'installation' : 'user'}. If you reach out to GitHub Support for help, please include the request ID.`, {
      'x-ratelimit-limit': String(window.limit), 'x-ratelimit-remaining': '0', 'x-ratelimit-used': String(window.limit),
      'x-ratelimit-reset': String(Math.ceil(window.resetAtMs / 1000)), 'x-ratelimit-resource': 'core',
    }, `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`),
    errorResponse: (status) => githubError(status, status === 401 ? 'Bad credentials' : status === 403 ? 'Resource not accessible by integration' : status === 404 ? 'Not Found' : status >= 500 ? 'Server Error' : 'Validation Failed'),
    handle(req) {
      if (!req.path.startsWith(state.pathPrefix)) return notFound();
      const path = req.path.slice(state.pathPrefix.length) || '/';
      const tokenRoute = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path);
      if (tokenRoute) return req.method === 'POST' ? state.credentials.accessToken(req, Number(tokenRoute[1])) : githubError(404, 'Not Found');
      if (req.method !== 'GET') return notFound();
      if (state.expireTokensAfter && --state.expireTokensAfter.remaining <= 0) {
        state.credentials.expireAll();
        state.expireTokensAfter = null;
      }
      const who = state.credentials.principal(req);
      if ('status' in who) return who;
      const secondary = state.secondary.find((s) => !s.path || path.startsWith(s.path));
      if (secondary) {
        if (--secondary.remaining <= 0) state.secondary.splice(state.secondary.indexOf(secondary), 1);
        return githubError(secondary.status, SECONDARY_MESSAGE, secondary.retryAfterSeconds === null ? {} : { 'retry-after': String(secondary.retryAfterSeconds) }, `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`);
      }
      for (const route of routes) {
        const match = route.pattern.exec(path);
        if (!match) continue;
        if (route.permission && !who.permissions.has(route.permission)) {
          return githubError(403, who.kind === 'installation' ? 'Resource not accessible by integration' : 'Resource not accessible by personal access token');
        }
        return route.handle(req, match.slice(1), who);
      }
      return notFound();
    },
  };
}
