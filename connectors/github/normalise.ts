/** GitHub's REST resources as they arrive, reduced to what the datasets keep. */

export interface GitHubOrg {
  id: number;
  login: string;
  name?: string | null;
  two_factor_requirement_enabled?: boolean | null;
  default_repository_permission?: string | null;
  members_can_create_public_repositories?: boolean | null;
  created_at?: string | null;
}

export interface GitHubUser {
  id: number;
  login: string;
  site_admin?: boolean;
}

export interface GitHubRepository {
  id: number;
  name: string;
  full_name: string;
  visibility?: string;
  private?: boolean;
  archived?: boolean;
  fork?: boolean;
  default_branch?: string | null;
  pushed_at?: string | null;
}

/** GET /repos/{owner}/{repo}/branches/{branch}/protection (only what is read). */
export interface GitHubBranchProtection {
  required_pull_request_reviews?: { required_approving_review_count?: number } | null;
}

/** One rule of GET /repos/{owner}/{repo}/rules/branches/{branch}. */
export interface GitHubBranchRule {
  type: string;
  ruleset_id?: number;
  parameters?: { required_approving_review_count?: number };
}

export interface GitHubDependabotAlert {
  number: number;
  state: string;
  created_at?: string | null;
  repository?: { full_name?: string };
  dependency?: { package?: { ecosystem?: string; name?: string }; manifest_path?: string };
  security_advisory?: { ghsa_id?: string; cve_id?: string | null; summary?: string; severity?: string };
  security_vulnerability?: { severity?: string };
}

export interface GitHubSecretScanningAlert {
  number: number;
  state: string;
  created_at?: string | null;
  repository?: { full_name?: string };
  secret_type?: string;
  secret_type_display_name?: string;
  validity?: string;
  push_protection_bypassed?: boolean | null;
  /** The leaked secret: never copied into a record. */
  secret?: string;
}

const SEVERITIES = new Set(['critical', 'high', 'medium', 'low']);

export function orgRecord(org: GitHubOrg) {
  return {
    id: org.id,
    login: org.login,
    name: org.name ?? null,
    two_factor_requirement_enabled: org.two_factor_requirement_enabled === true,
    default_repository_permission: org.default_repository_permission ?? null,
    members_can_create_public_repositories: org.members_can_create_public_repositories ?? null,
    created: org.created_at ?? null,
  };
}

export function memberRecord(user: GitHubUser, affiliation: 'member' | 'outside_collaborator', owners: ReadonlySet<string>, without2fa: ReadonlySet<string>) {
  return {
    id: user.id,
    login: user.login,
    affiliation,
    role: affiliation === 'member' ? (owners.has(user.login) ? 'admin' : 'member') : null,
    two_factor_enabled: !without2fa.has(user.login),
    site_admin: user.site_admin ?? null,
  };
}

const reviewCount = (n: unknown) => (typeof n === 'number' && Number.isFinite(n) ? n : 0);

/** A repository with what its default branch requires: protection null = not protected (GitHub's 404 "Branch not protected"). */
export function repositoryRecord(repo: GitHubRepository, branch: { protection: GitHubBranchProtection | null; rules: GitHubBranchRule[] } | null) {
  const protectionCount = branch?.protection ? reviewCount(branch.protection.required_pull_request_reviews?.required_approving_review_count) : null;
  const protectionReviews = branch?.protection ? Boolean(branch.protection.required_pull_request_reviews) && (protectionCount ?? 0) >= 1 : false;
  const rulesetCount = branch ? Math.max(0, ...branch.rules.filter((r) => r.type === 'pull_request').map((r) => reviewCount(r.parameters?.required_approving_review_count))) : null;
  const rulesetReviews = (rulesetCount ?? 0) >= 1;
  const visibility = repo.visibility ?? (repo.private === undefined ? null : repo.private ? 'private' : 'public');
  return {
    id: repo.id,
    name: repo.name,
    full_name: repo.full_name,
    visibility: visibility === 'public' || visibility === 'private' || visibility === 'internal' ? visibility : null,
    archived: repo.archived === true,
    fork: repo.fork ?? null,
    default_branch: repo.default_branch ?? null,
    branch_protected: branch ? branch.protection !== null : null,
    protection_requires_reviews: branch ? protectionReviews : null,
    ruleset_requires_reviews: branch ? rulesetReviews : null,
    default_branch_requires_reviews: branch ? protectionReviews || rulesetReviews : null,
    required_approving_review_count: branch ? Math.max(protectionCount ?? 0, rulesetCount ?? 0) : null,
    pushed: repo.pushed_at ?? null,
  };
}

export function dependabotAlertRecord(alert: GitHubDependabotAlert) {
  const repository = alert.repository?.full_name ?? '';
  const severity = alert.security_advisory?.severity ?? alert.security_vulnerability?.severity ?? null;
  return {
    id: `${repository}#${alert.number}`,
    number: alert.number,
    repository,
    state: alert.state,
    severity: severity && SEVERITIES.has(severity) ? (severity as 'critical' | 'high' | 'medium' | 'low') : null,
    ghsa_id: alert.security_advisory?.ghsa_id ?? null,
    cve_id: alert.security_advisory?.cve_id ?? null,
    summary: alert.security_advisory?.summary ?? null,
    package_ecosystem: alert.dependency?.package?.ecosystem ?? null,
    package_name: alert.dependency?.package?.name ?? null,
    manifest_path: alert.dependency?.manifest_path ?? null,
    created: alert.created_at ?? null,
  };
}

export function secretScanningAlertRecord(alert: GitHubSecretScanningAlert) {
  const repository = alert.repository?.full_name ?? '';
  return {
    id: `${repository}#${alert.number}`,
    number: alert.number,
    repository,
    state: alert.state,
    secret_type: alert.secret_type ?? null,
    secret_type_display_name: alert.secret_type_display_name ?? null,
    validity: alert.validity ?? null,
    push_protection_bypassed: alert.push_protection_bypassed ?? null,
    created: alert.created_at ?? null,
  };
}
