// AgentAudit's alerts. The seed: "Alerts are created automatically when a
// compliance rule fires. You can list, filter, and resolve them via API"
// (`GET /api/v1/alerts` — "supports ?resolved=false", `GET
// /api/v1/alerts/:id`, `PATCH /api/v1/alerts/:id/resolve`), and "Rules are
// evaluated automatically against every incoming log. Violations trigger
// alerts". The seed shows no alert record; its fields here (`ruleId`,
// `ruleName`, `severity`, `message`, `auditLogId`, `agentId`, `traceId`,
// `resolved`, `resolvedAt`, `createdAt`) are inferred, in the camelCase of
// the seed's other records. Two rules are live, after the seed's own
// example ("Draft email containing SSN: 123-45-6789" → "BLOCKED: PII
// detected", rule "pii_detection"): SSNs and payment card numbers in a
// log's prompt or response.

import { randomBytes } from 'node:crypto';
import { Rng } from '../common/random.js';
import { HOUR_MS, iso } from '../common/time.js';
import { ORGANIZATION_ID } from './auth.js';
import type { AgentAuditLog } from './logs.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AgentAuditAlert {
  id: string;
  organizationId: string;
  ruleId: string;
  ruleName: string;
  severity: Severity;
  message: string;
  auditLogId: string | null;
  agentId: string | null;
  traceId: string | null;
  resolved: boolean;
  resolvedAt: string | null;
  createdAt: string;
}

export interface ComplianceRule {
  id: string;
  name: string;
  severity: Severity;
  /** Tested against a log's prompt and response. */
  pattern?: RegExp;
}

const LIVE_RULES: readonly ComplianceRule[] = [
  { id: 'rule_pii_detection', name: 'pii_detection', severity: 'high', pattern: /\b\d{3}-\d{2}-\d{4}\b/ },
  { id: 'rule_payment_card', name: 'payment_card_number', severity: 'critical', pattern: /\b(?:\d{4}[ -]?){3}\d{4}\b/ },
];

/** Rules seeded alerts come from, by severity (names after the seed's hipaa, finance and gdpr packs). */
const SEEDED_RULES: Record<Severity, readonly ComplianceRule[]> = {
  critical: [{ id: 'rule_payment_card', name: 'payment_card_number', severity: 'critical' }, { id: 'rule_phi_export', name: 'phi_bulk_export', severity: 'critical' }],
  high: [{ id: 'rule_pii_detection', name: 'pii_detection', severity: 'high' }, { id: 'rule_gdpr_transfer', name: 'gdpr_cross_border_transfer', severity: 'high' }],
  medium: [{ id: 'rule_prompt_injection', name: 'prompt_injection_attempt', severity: 'medium' }],
  low: [{ id: 'rule_missing_disclaimer', name: 'missing_ai_disclaimer', severity: 'low' }],
};

/** Unresolved alerts to seed per severity, and resolved ones (of any severity). */
export interface AlertCounts {
  critical?: number;
  high?: number;
  medium?: number;
  low?: number;
  resolved?: number;
}

export class AlertStore {
  /** Every alert in creation order (live). */
  readonly alerts: AgentAuditAlert[] = [];

  get(id: string): AgentAuditAlert | undefined {
    return this.alerts.find((alert) => alert.id === id);
  }

  /** Newest first; `resolved` filters when given. */
  list(resolved: boolean | undefined): AgentAuditAlert[] {
    return this.alerts.filter((alert) => resolved === undefined || alert.resolved === resolved).reverse();
  }

  resolve(id: string, nowMs: number): AgentAuditAlert | undefined {
    const alert = this.get(id);
    if (alert && !alert.resolved) {
      alert.resolved = true;
      alert.resolvedAt = iso(nowMs);
    }
    return alert;
  }

  /** Runs the live rules over an incoming log; returns the alerts it raised. */
  evaluate(log: AgentAuditLog, nowMs: number): AgentAuditAlert[] {
    const text = `${log.prompt ?? ''}\n${log.response ?? ''}`;
    const raised = LIVE_RULES.filter((rule) => rule.pattern?.test(text)).map((rule) =>
      this.add(rule, `${rule.name} violation in a ${log.action} log`, log, `alert_${randomBytes(6).toString('hex')}`, nowMs),
    );
    return raised;
  }

  add(rule: ComplianceRule, message: string, log: AgentAuditLog | undefined, id: string, createdAtMs: number): AgentAuditAlert {
    const alert: AgentAuditAlert = {
      id,
      organizationId: ORGANIZATION_ID,
      ruleId: rule.id,
      ruleName: rule.name,
      severity: rule.severity,
      message,
      auditLogId: log?.id ?? null,
      agentId: log?.agentId ?? null,
      traceId: log?.traceId ?? null,
      resolved: false,
      resolvedAt: null,
      createdAt: iso(createdAtMs),
    };
    this.alerts.push(alert);
    return alert;
  }
}

const STREAM_ALERT = 61;

/** Seeds the exact counts asked for, each alert pointing at one of the seeded logs. */
export function seedAlerts(store: AlertStore, seed: number, counts: Required<AlertCounts>, logs: readonly AgentAuditLog[], nowMs: number): void {
  const plan: { severity: Severity; resolved: boolean }[] = [];
  for (const severity of SEVERITIES) for (let n = 0; n < counts[severity]; n++) plan.push({ severity, resolved: false });
  for (let n = 0; n < counts.resolved; n++) plan.push({ severity: SEVERITIES[n % SEVERITIES.length] as Severity, resolved: true });
  plan.forEach(({ severity, resolved }, n) => {
    const rng = Rng.forRecord(seed, STREAM_ALERT, n);
    const rule = rng.pick(SEEDED_RULES[severity]);
    const log = logs.length > 0 ? rng.pick(logs) : undefined;
    const createdAtMs = nowMs - rng.int(2, 6 * 24) * HOUR_MS;
    const alert = store.add(rule, `${rule.name} violation in a ${log?.action ?? 'log'} log`, log, `alert_${rng.hex(12)}`, createdAtMs);
    if (resolved) {
      alert.resolved = true;
      alert.resolvedAt = iso(createdAtMs + HOUR_MS);
    }
  });
  // Creation order = time order, as if they had been raised one after the other.
  store.alerts.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
}
