// AUDIGYD assessments, as far as evidence needs them: sections named by a
// control_ref ("Access Control", "Logging", …) that hold questions, a tenant
// ("Tenant-isolated"; "cross-tenant pushes return 404") and a lifecycle
// status ("Pushes to finalized/archived assessments are rejected with 409").
// Also the push/match lookup: "Send a control_ref + question_match hint and
// let AUDIGYD find the right question by name".

export type AudigydAssessmentStatus = 'open' | 'finalized' | 'archived';

export interface AudigydQuestionFixture {
  id: string;
  /** What `question_match` is matched against. */
  text: string;
}

export interface AudigydSectionFixture {
  /** The section's control, as a push names it in `control_ref`. */
  control_ref: string;
  questions: readonly AudigydQuestionFixture[];
}

export interface AudigydAssessmentFixture {
  id: string;
  name: string;
  /** Default: the tenant of the simulator's default API key. */
  tenant?: string;
  sections: readonly AudigydSectionFixture[];
}

export interface AudigydQuestion {
  readonly id: string;
  readonly text: string;
  readonly controlRef: string;
}

export interface AudigydAssessment {
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  status: AudigydAssessmentStatus;
  /** Every question, section by section, in fixture order. */
  readonly questions: readonly AudigydQuestion[];
}

export const DEFAULT_TENANT = 'tenant_sim';

/** "Set allow_multiple: true to broadcast to every match (capped at 25)". */
export const BROADCAST_CAP = 25;

/**
 * A SOC 2 assessment whose questions answer the seed's own examples
 * (`"Access Control"` / `"MFA admin"`, `"Logging"` / `"centralized"`) with
 * exactly one match each, while `"MFA"` alone matches two questions; and an
 * assessment of another tenant, which the default key must not see.
 */
export const AUDIGYD_DEFAULT_ASSESSMENTS: readonly AudigydAssessmentFixture[] = [
  {
    id: 'asm_soc2_2025',
    name: 'SOC 2 Type II 2025',
    sections: [
      {
        control_ref: 'Access Control',
        questions: [
          { id: 'q_ac_mfa_admin', text: 'Is MFA enforced for all admin accounts?' },
          { id: 'q_ac_mfa_users', text: 'Is MFA enforced for all user accounts?' },
          { id: 'q_ac_review', text: 'Are user access reviews performed at least quarterly?' },
          { id: 'q_ac_offboarding', text: 'Is access revoked within 24 hours of termination?' },
        ],
      },
      {
        control_ref: 'Logging',
        questions: [
          { id: 'q_log_central', text: 'Are security logs centralized in a SIEM?' },
          { id: 'q_log_integrity', text: 'Is log file integrity validation enabled?' },
          { id: 'q_log_retention', text: 'Are logs retained for at least 12 months?' },
        ],
      },
      {
        control_ref: 'Endpoint Security',
        questions: [
          { id: 'q_ep_encryption', text: 'Is full-disk encryption enforced on all endpoints?' },
          { id: 'q_ep_firewall', text: 'Is the host firewall enabled on all endpoints?' },
          { id: 'q_ep_os', text: 'Are endpoint operating systems kept up to date?' },
        ],
      },
    ],
  },
  {
    id: 'asm_other_tenant',
    name: 'Another tenant’s assessment',
    tenant: 'tenant_other',
    sections: [{ control_ref: 'Access Control', questions: [{ id: 'q_other_mfa', text: 'Is MFA enforced for all admin accounts?' }] }],
  },
];

export class AudigydAssessments {
  private readonly byId = new Map<string, AudigydAssessment>();

  constructor(fixtures: readonly AudigydAssessmentFixture[], defaultTenant: string) {
    const questionIds = new Set<string>();
    for (const fixture of fixtures) {
      if (this.byId.has(fixture.id)) throw new RangeError(`assessment ${fixture.id} appears twice`);
      const questions = fixture.sections.flatMap((section) => section.questions.map((q) => ({ id: q.id, text: q.text, controlRef: section.control_ref })));
      for (const question of questions) {
        if (questionIds.has(question.id)) throw new RangeError(`question ${question.id} appears twice`);
        questionIds.add(question.id);
      }
      this.byId.set(fixture.id, { id: fixture.id, name: fixture.name, tenant: fixture.tenant ?? defaultTenant, status: 'open', questions });
    }
  }

  all(): AudigydAssessment[] {
    return [...this.byId.values()];
  }

  /** An assessment the tenant may see; another tenant's is as unknown as a missing one. */
  visibleTo(tenant: string, id: string): AudigydAssessment | undefined {
    const assessment = this.byId.get(id);
    return assessment?.tenant === tenant ? assessment : undefined;
  }

  setStatus(id: string, status: AudigydAssessmentStatus): void {
    const assessment = this.byId.get(id);
    if (!assessment) throw new RangeError(`no assessment ${id}`);
    assessment.status = status;
  }
}

const normalise = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * The questions a push/match hint finds. The seed's examples set the rules:
 * `"control_ref": "Access Control"` names a section, so it must equal the
 * section's control_ref (ignoring case and spacing); `"question_match": "MFA
 * admin"` is no substring of a question but a few words of one, so every word
 * of it must occur in the question's text (ignoring case; "admin" also finds
 * "administrator").
 */
export function matchQuestions(assessment: AudigydAssessment, controlRef: string, questionMatch: string): AudigydQuestion[] {
  const control = normalise(controlRef);
  const words = normalise(questionMatch).split(' ');
  return assessment.questions.filter((question) => {
    if (normalise(question.controlRef) !== control) return false;
    const text = normalise(question.text);
    return words.every((word) => text.includes(word));
  });
}
