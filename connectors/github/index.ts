import { mapConcurrent } from '../../lib/map-concurrent.js';
import { ConnectorError } from '../errors.js';
import { connectionContext, type JsonValue, type SourceConnector } from '../types.js';
import { GitHubClient } from './client.js';
import { OWNER_ACCESS, SYSTEM, type GitHubCall } from './errors.js';
import {
  dependabotAlertRecord, memberRecord, orgRecord, repositoryRecord, secretScanningAlertRecord,
  type GitHubBranchProtection, type GitHubBranchRule, type GitHubDependabotAlert, type GitHubOrg, type GitHubRepository, type GitHubSecretScanningAlert, type GitHubUser,
} from './normalise.js';
import { githubDatasets } from './records.js';
import { githubConfigSchema, githubSecretsSchema, githubUrlFields, type GitHubConfig } from './settings.js';

const MEMBERS = 'Organization: Members (read)';
const CALLS = {
  org: { what: 'reading the organization', permission: 'Metadata (read)' },
  members: { what: 'listing organization members', permission: MEMBERS },
  owners: { what: 'listing organization owners (role=admin)', permission: MEMBERS },
  membersWithout2fa: { what: 'listing members without two-factor authentication (filter=2fa_disabled)', permission: MEMBERS, ownerOnly: true },
  collaborators: { what: 'listing outside collaborators', permission: MEMBERS },
  collaboratorsWithout2fa: { what: 'listing outside collaborators without two-factor authentication (filter=2fa_disabled)', permission: MEMBERS, ownerOnly: true },
  repositories: { what: 'listing the organization’s repositories', permission: 'Repository: Metadata (read)' },
  protection: { what: 'reading branch protection', permission: 'Repository: Administration (read)', notFoundIsNull: true as const },
  rules: { what: 'reading the rules (rulesets) of a branch', permission: 'Repository: Metadata (read)' },
  dependabot: { what: 'listing open Dependabot alerts of the organization', permission: 'Repository: Dependabot alerts (read)' },
  secretScanning: { what: 'listing open secret-scanning alerts of the organization', permission: 'Repository: Secret scanning alerts (read)' },
} satisfies Record<string, GitHubCall>;

/** github.members walks two lists; each continues from its stored next URL. */
interface MembersCursor {
  phase: 'members' | 'outside_collaborators';
  url: string;
}

/** The logins of a whole (short) list: the owners, or the accounts without 2FA. */
async function logins(github: GitHubClient, path: string, call: GitHubCall): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const page of github.pages<GitHubUser>(path, call)) for (const user of page.items) found.add(user.login);
  return found;
}

async function defaultBranchOf(github: GitHubClient, repo: GitHubRepository): Promise<{ protection: GitHubBranchProtection | null; rules: GitHubBranchRule[] } | null> {
  if (repo.archived || !repo.default_branch) return null;
  const [owner, name] = repo.full_name.split('/').map(encodeURIComponent);
  const branch = encodeURIComponent(repo.default_branch);
  const base = `/repos/${owner}/${name}`;
  const about = ` of ${repo.full_name}@${repo.default_branch}`;
  const [protection, rules] = await Promise.all([
    github.get(`${base}/branches/${branch}/protection`, { ...CALLS.protection, what: CALLS.protection.what + about }).then((r) => (r ? r.json<GitHubBranchProtection>() : null)),
    (async () => {
      const all: GitHubBranchRule[] = [];
      for await (const page of github.pages<GitHubBranchRule>(`${base}/rules/branches/${branch}?per_page=100`, { ...CALLS.rules, what: CALLS.rules.what + about })) all.push(...page.items);
      return all;
    })(),
  ]);
  return { protection, rules };
}

export const githubConnector: SourceConnector<GitHubClient> = {
  type: 'github',
  name: 'GitHub',
  description: 'Organization two-factor requirement, members and outside collaborators without 2FA, repositories with default-branch review requirements (branch protection or rulesets), open Dependabot and secret-scanning alerts, from GitHub or GitHub Enterprise Server (GitHub App or fine-grained token).',
  configSchema: githubConfigSchema,
  secretsSchema: githubSecretsSchema,
  urlFields: githubUrlFields,

  open: (context) => new GitHubClient(connectionContext(context), context.config as unknown as GitHubConfig),

  async test(github) {
    await github.authenticate();
    await github.get(`/orgs/${github.org}`, CALLS.org);
  },

  datasets: {
    'github.org': {
      ...githubDatasets['github.org'],
      async *pages(github) {
        const org = (await github.get(`/orgs/${github.org}`, CALLS.org)).json<GitHubOrg>();
        // GitHub leaves two_factor_requirement_enabled out (or null) for anybody but an owner: unknown, never false.
        if (typeof org.two_factor_requirement_enabled !== 'boolean') {
          throw new ConnectorError('permission', `GitHub did not say whether the organization ${github.config.org} requires two-factor authentication (two_factor_requirement_enabled is shown to organization owners only): the connection needs ${OWNER_ACCESS}.`, { system: SYSTEM });
        }
        yield { records: [orgRecord(org)], next: null };
      },
    },

    'github.members': {
      ...githubDatasets['github.members'],
      async *pages(github, cursor) {
        const per = github.pageSize;
        const membersFirst: MembersCursor = { phase: 'members', url: `/orgs/${github.org}/members?per_page=${per}` };
        const collaboratorsFirst: MembersCursor = { phase: 'outside_collaborators', url: `/orgs/${github.org}/outside_collaborators?per_page=${per}` };
        let position = (cursor as MembersCursor | null) ?? membersFirst;
        if (position.phase === 'members') {
          // The short lists are read again on a resume; the long one continues from its stored page.
          const without2fa = await logins(github, `/orgs/${github.org}/members?filter=2fa_disabled&per_page=100`, CALLS.membersWithout2fa);
          const owners = await logins(github, `/orgs/${github.org}/members?role=admin&per_page=100`, CALLS.owners);
          for await (const page of github.pages<GitHubUser>(position.url, CALLS.members)) {
            const next = page.next ? { phase: 'members', url: page.next } : collaboratorsFirst;
            yield { records: page.items.map((u) => memberRecord(u, 'member', owners, without2fa)), next: next as unknown as JsonValue };
          }
          position = collaboratorsFirst;
        }
        const without2fa = await logins(github, `/orgs/${github.org}/outside_collaborators?filter=2fa_disabled&per_page=100`, CALLS.collaboratorsWithout2fa);
        for await (const page of github.pages<GitHubUser>(position.url, CALLS.collaborators)) {
          const next = page.next ? { phase: 'outside_collaborators', url: page.next } : null;
          yield { records: page.items.map((u) => memberRecord(u, 'outside_collaborator', new Set(), without2fa)), next: next as unknown as JsonValue };
        }
      },
    },

    'github.repositories': {
      ...githubDatasets['github.repositories'],
      async *pages(github, cursor) {
        const first = `/orgs/${github.org}/repos?type=all&sort=full_name&per_page=${github.pageSize}`;
        const concurrency = github.config.concurrency ?? 8;
        for await (const page of github.pages<GitHubRepository>((cursor as string | null) ?? first, CALLS.repositories)) {
          const records = await mapConcurrent(page.items, concurrency, async (repo) => repositoryRecord(repo, await defaultBranchOf(github, repo)));
          yield { records, next: page.next };
        }
      },
    },

    'github.dependabot_alerts': {
      ...githubDatasets['github.dependabot_alerts'],
      async *pages(github, cursor) {
        const first = `/orgs/${github.org}/dependabot/alerts?state=open&per_page=${github.pageSize}`;
        for await (const page of github.pages<GitHubDependabotAlert>((cursor as string | null) ?? first, CALLS.dependabot)) {
          yield { records: page.items.map(dependabotAlertRecord), next: page.next };
        }
      },
    },

    'github.secret_scanning_alerts': {
      ...githubDatasets['github.secret_scanning_alerts'],
      async *pages(github, cursor) {
        const first = `/orgs/${github.org}/secret-scanning/alerts?state=open&per_page=${github.pageSize}`;
        for await (const page of github.pages<GitHubSecretScanningAlert>((cursor as string | null) ?? first, CALLS.secretScanning)) {
          yield { records: page.items.map(secretScanningAlertRecord), next: page.next };
        }
      },
    },
  },
};
