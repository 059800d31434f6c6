/** An AUDIGYD assessment whose questions match the okta pack's hints (one each, and "MFA" twice). */
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
