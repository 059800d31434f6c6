/** An AUDIGYD assessment with one question per github pack hint. */
export const GITHUB_ASSESSMENT = {
  id: 'asm_github',
  name: 'GitHub review',
  sections: [
    {
      control_ref: 'Access Control',
      questions: [
        { id: 'q_gh_org_2fa', text: 'Does the GitHub organization require two-factor authentication?' },
        { id: 'q_gh_members_2fa', text: 'Have all GitHub members enabled 2FA?' },
      ],
    },
    { control_ref: 'Change Management', questions: [{ id: 'q_gh_reviews', text: 'Is code review required before changes reach the default branch?' }] },
    {
      control_ref: 'Vulnerability Management',
      questions: [
        { id: 'q_gh_dependabot', text: 'Are dependency vulnerabilities remediated on time?' },
        { id: 'q_gh_secrets', text: 'Are leaked secrets revoked and resolved?' },
      ],
    },
  ],
};
