import type { HubClient } from './hub-client.js';
import { getCheck, listChecks } from './tools/posture.js';

export const EXPLAIN_FAILING_CHECKS = {
  name: 'explain_failing_checks',
  title: 'Explain failing checks',
  description: 'Gathers the failing checks (optionally of one framework or job) with the records they fail on, for the assistant to explain what fails, why, and what to fix first.',
  arguments: [
    { name: 'framework', description: 'Only checks citing this framework (soc2, iso27001, nist_800_53, cis_aws).', required: false },
    { name: 'job_id', description: 'Only this job’s checks.', required: false },
  ],
};

/** Checks gathered in full for the prompt; more are counted, not detailed, to keep the prompt readable. */
const DETAILED = 10;

/** The prompt's one user message: the failing checks in text, as the tools render them, then the request. */
export async function explainFailingChecks(hub: HubClient, args: Record<string, string | undefined>): Promise<{ description: string; messages: { role: 'user'; content: { type: 'text'; text: string } }[] }> {
  const listed = await listChecks.run(hub, { status: 'fail', framework: args.framework, job_id: args.job_id, limit: DETAILED });
  const checks = listed.structured.checks as { id: string }[];
  const details = await Promise.all(checks.map((c) => getCheck.run(hub, { check_id: c.id, history_limit: 5 })));
  const scope = [args.framework && `framework ${args.framework}`, args.job_id && `job ${args.job_id}`].filter(Boolean).join(', ');
  const text = checks.length
    ? `These compliance checks fail${scope ? ` (${scope})` : ''}${listed.structured.next_cursor ? ` (the first ${checks.length}; more fail)` : ''}:\n\n` +
      details.map((d) => d.text).join('\n\n') +
      '\n\nExplain to a compliance admin, check by check: what the control requires, which records fail it (by their labels) and why, since when (from the history), ' +
      'and the concrete fix in the source system. Order them by risk, and say which can be fixed quickly.'
    : `No check fails${scope ? ` (${scope})` : ''}. Say so, and mention any check that is stale or in error if the admin asks.`;
  return { description: `Failing checks${scope ? ` (${scope})` : ''}`, messages: [{ role: 'user', content: { type: 'text', text } }] };
}
