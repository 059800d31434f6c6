/** An AUDIGYD assessment whose questions match the okta pack's hints, one each ("MFA" alone would match two). */
export const OKTA_ASSESSMENT = {
  id: 'asm_okta',
  name: 'Identity review',
  sections: [
    {
      control_ref: 'Access Control',
      questions: [
        { id: 'q_mfa_admin', text: 'Is MFA enforced for all admin accounts?' },
        { id: 'q_mfa_users', text: 'Is MFA enforced for all user accounts?' },
        { id: 'q_inactive', text: 'Are inactive accounts disabled within 90 days?' },
        { id: 'q_deprovisioned', text: 'Can deprovisioned users still sign in?' },
        { id: 'q_password_length', text: 'Does the password length meet the standard?' },
        { id: 'q_lockout', text: 'Is account lockout configured?' },
      ],
    },
  ],
};

/** An AUDIGYD assessment whose questions match the jamf and aws packs' hints. */
export const ASSESSMENT = {
  id: 'asm_all',
  name: 'All controls',
  sections: [
    { control_ref: 'Endpoint Security', questions: [{ id: 'q_disk', text: 'Is disk encryption enforced?' }, { id: 'q_fw', text: 'Is the firewall enabled?' }] },
    { control_ref: 'Vulnerability Management', questions: [{ id: 'q_os', text: 'Is the operating system version current?' }] },
    { control_ref: 'Asset Management', questions: [{ id: 'q_checkin', text: 'Does every device check-in regularly?' }] },
    {
      control_ref: 'Access Control',
      questions: [
        { id: 'q_root', text: 'Is root account MFA on?' }, { id: 'q_pwlen', text: 'Is the password length at least 14?' },
        { id: 'q_reuse', text: 'Is password reuse prevented?' }, { id: 'q_keys', text: 'Is access key rotation done?' },
        { id: 'q_aws_mfa_admin', text: 'Is MFA enforced for admin accounts?' },
      ],
    },
    { control_ref: 'Logging & Monitoring', questions: [{ id: 'q_trail', text: 'Is a CloudTrail trail logging?' }, { id: 'q_validation', text: 'Is log file validation on?' }] },
    { control_ref: 'Data Protection', questions: [{ id: 'q_s3', text: 'Is S3 public access blocked?' }] },
  ],
};
