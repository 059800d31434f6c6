/** An AUDIGYD assessment with one question per entra and intune pack hint. */
export const GRAPH_ASSESSMENT = {
  id: 'asm_graph',
  name: 'Microsoft 365 review',
  sections: [
    {
      control_ref: 'Access Control',
      questions: [
        { id: 'q_ms_mfa_members', text: 'Have all enabled members registered MFA?' },
        { id: 'q_ms_mfa_privileged', text: 'Is MFA required for privileged roles?' },
        { id: 'q_ms_mfa_enforced', text: 'Is MFA enforced by conditional access enforcement or security defaults?' },
        { id: 'q_ms_inactive', text: 'Are inactive accounts disabled within 90 days?' },
        { id: 'q_ms_guests', text: 'Is there a periodic guest review?' },
      ],
    },
    { control_ref: 'Endpoint Security', questions: [{ id: 'q_ms_compliance', text: 'Is device compliance enforced?' }, { id: 'q_ms_encryption', text: 'Is device encryption on for every laptop?' }] },
    { control_ref: 'Vulnerability Management', questions: [{ id: 'q_ms_os', text: 'Is the operating system version current?' }] },
    { control_ref: 'Asset Management', questions: [{ id: 'q_ms_sync', text: 'Does every device sync regularly?' }] },
  ],
};
