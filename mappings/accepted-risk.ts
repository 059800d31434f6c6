import { canonicalSha256 } from '../lib/canonical-json.js';
import type { EvidenceItem, Rule } from './types.js';

/** A granted exception as evaluation applies it (store/exceptions.ts holds the rest). */
export interface AcceptedRisk {
  id: string;
  /** null: the whole check. */
  record_ids: string[] | null;
  reason: string;
  owner: string;
  expires_at: Date;
}

const describe = (risk: AcceptedRisk) => ({ id: risk.id, owner: risk.owner, reason: risk.reason, expires_at: risk.expires_at.toISOString(), record_ids: risk.record_ids });

/**
 * The rules with their checks' exceptions applied like exclusions: the accepted records are
 * muted (and listed as excluded in the payload) for as long as the exception is active.
 */
export function withAcceptedRecords(rules: readonly Rule[], byRule: ReadonlyMap<string, readonly AcceptedRisk[]>): Rule[] {
  return rules.map((rule) => {
    const risks = byRule.get(rule.id)?.filter((r) => r.record_ids !== null) ?? [];
    if (!risks.length) return rule;
    const excluded = new Set((rule.exclusions ?? []).map((e) => String(e.id)));
    const added = risks.flatMap((risk) => risk.record_ids!.filter((id) => !excluded.has(id) && (excluded.add(id), true))
      .map((id) => ({ id, reason: `exception ${risk.id} (${risk.owner}): ${risk.reason}` })));
    return { ...rule, exclusions: [...(rule.exclusions ?? []), ...added] };
  });
}

/**
 * An item under its check's exceptions: the payload names them; a fail under a whole-check
 * exception is reported as a pass. An error is never turned into a pass: it says nothing.
 */
export function underAcceptedRisk(item: EvidenceItem, risks: readonly AcceptedRisk[] | undefined): EvidenceItem {
  if (!risks?.length) return item;
  const wholeCheck = risks.find((r) => r.record_ids === null);
  const evaluation = (item.payload._evaluation ?? {}) as Record<string, unknown>;
  const accepted = wholeCheck && item.result === 'fail';
  const payload = {
    ...item.payload,
    _evaluation: { ...evaluation, ...(accepted ? { result: 'pass', accepted_result: 'fail' } : {}), exceptions: risks.map(describe) },
  };
  return {
    ...item,
    result: accepted ? 'pass' : item.result,
    title: accepted ? `${item.title} — accepted under exception ${wholeCheck.id} until ${wholeCheck.expires_at.toISOString().slice(0, 10)}` : item.title,
    payload,
    payload_sha256: canonicalSha256(payload),
  };
}
