// AUDITDEX engagements and their controls. From the seed: "GET /engagements
// … Returns paginated list of engagements accessible to the authenticated
// client"; a missing or inaccessible one is the seed's 404 ("Engagement
// eng_xyz789 not found or access denied"); "engagement.completed — an
// engagement closed".
//
// The seed does not say what submitting evidence to a completed engagement
// answers. This simulator refuses it with 409 Conflict (type
// …/errors/engagement-completed): none of the seed's common codes fits a
// closed engagement, and a hub must not mistake it for a retryable or an
// authentication failure.

export type AuditdexEngagementStatus = 'active' | 'completed';

export interface AuditdexControlFixture {
  /** e.g. the seed's `ctrl_abc123`. */
  id: string;
  name: string;
  /** What GET …/controls/{control_id} reports as the testing status (default `not_tested`). */
  testingStatus?: string;
}

export interface AuditdexEngagementFixture {
  /** e.g. the seed's `eng_xyz789`. */
  id: string;
  name: string;
  /** Default `active`. */
  status?: AuditdexEngagementStatus;
  controls: readonly AuditdexControlFixture[];
  /** Clients that can access it (default: every client). */
  clientIds?: readonly string[];
}

export interface AuditdexEngagement {
  readonly id: string;
  readonly name: string;
  status: AuditdexEngagementStatus;
  readonly controls: readonly AuditdexControlFixture[];
  readonly clientIds?: readonly string[];
}

/** The seed's own ids: engagement `eng_xyz789` with control `ctrl_abc123`, and a completed engagement. */
export const AUDITDEX_DEFAULT_ENGAGEMENTS: readonly AuditdexEngagementFixture[] = [
  {
    id: 'eng_xyz789',
    name: 'FY2025 SOC 2 Type II',
    controls: [
      { id: 'ctrl_abc123', name: 'Privileged access review' },
      { id: 'ctrl_log456', name: 'Centralized security logging' },
      { id: 'ctrl_enc789', name: 'Endpoint disk encryption' },
    ],
  },
  {
    id: 'eng_done001',
    name: 'FY2024 SOC 2 Type II',
    status: 'completed',
    controls: [{ id: 'ctrl_abc123', name: 'Privileged access review', testingStatus: 'concluded' }],
  },
];

export class AuditdexEngagements {
  private readonly byId = new Map<string, AuditdexEngagement>();

  constructor(fixtures: readonly AuditdexEngagementFixture[]) {
    for (const fixture of fixtures) {
      if (this.byId.has(fixture.id)) throw new RangeError(`engagement ${fixture.id} appears twice`);
      this.byId.set(fixture.id, { ...fixture, status: fixture.status ?? 'active' });
    }
  }

  /** The engagements a client can access, in fixture order. */
  accessibleTo(clientId: string): AuditdexEngagement[] {
    return [...this.byId.values()].filter((engagement) => canAccess(engagement, clientId));
  }

  /** One engagement, if it exists and the client can access it ("not found or access denied" otherwise). */
  find(clientId: string, id: string): AuditdexEngagement | undefined {
    const engagement = this.byId.get(id);
    return engagement && canAccess(engagement, clientId) ? engagement : undefined;
  }

  setStatus(id: string, status: AuditdexEngagementStatus): void {
    const engagement = this.byId.get(id);
    if (!engagement) throw new RangeError(`no engagement ${id}`);
    engagement.status = status;
  }
}

function canAccess(engagement: AuditdexEngagement, clientId: string): boolean {
  return !engagement.clientIds || engagement.clientIds.includes(clientId);
}
