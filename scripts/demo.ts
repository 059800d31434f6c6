/**
 * `npm run demo`: the product working in five minutes without any vendor account. Starts the
 * hub (embedded Temporal, PGlite) with simulators of Okta, Jamf, Microsoft Graph (Entra ID and
 * Intune), GitHub and AUDIGYD (and AWS through
 * moto when it is installed), creates a workspace, connections, the built-in packs, an
 * AUDIGYD destination, a webhook subscription with a local receiver, and jobs; triggers the
 * runs and prints what arrived where, and which signed webhooks the receiver verified.
 * `--once` exits after the report (used by the test); otherwise it keeps running until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { startHub } from '../hub.js';
import { createLogger } from '../lib/logger.js';
import { freePort } from '../temporal/dev-server.js';
import { startAudigydSimulator, startGitHubSimulator, startGraphSimulator, startJamfSimulator, startOktaSimulator } from '../test/simulators/index.js';
import { ASSESSMENT, OKTA_ASSESSMENT } from '../test/helpers/fixtures.js';
import { GRAPH_ASSESSMENT } from '../test/helpers/graph-fixtures.js';
import { GITHUB_ASSESSMENT } from '../test/helpers/github-fixtures.js';
import { Webhook } from 'standardwebhooks';
import { WebhookReceiver } from '../test/helpers/webhook-receiver.js';

const once = process.argv.includes('--once');
const say = (line = '') => process.stdout.write(line + '\n');

async function startMoto(): Promise<{ url: string; stop: () => void } | null> {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const failed = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    setTimeout(() => resolve(false), 200);
  });
  if (failed) return null;
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/moto-api/`).then(() => true, () => false)) return { url, stop: () => child.kill() };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill();
  return null;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'evidence-hub-demo-'));
  const [okta, jamf, audigyd, moto] = await Promise.all([
    startOktaSimulator({ population: { total: 500, admins: 12, adminsWithoutMfa: 2, withoutMfa: 30, deprovisioned: 20 }, rateLimit: { limit: 600, windowMs: 1000 } }),
    startJamfSimulator({ fleet: { total: 200, unencrypted: 6, firewallDisabled: 3 } }),
    startAudigydSimulator({ assessments: [OKTA_ASSESSMENT, ASSESSMENT, GRAPH_ASSESSMENT, GITHUB_ASSESSMENT], rateLimit: false, uploadRateLimit: false }),
    startMoto(),
  ]);
  // Microsoft Graph (Entra ID and Intune): one simulated tenant, one app registration for both connectors.
  const graph = await startGraphSimulator({ users: { total: 400, withoutMfa: 15, admins: 6, adminsWithoutMfa: 1, guests: 8, staleGuests: 2 }, devices: { total: 150, noncompliant: 4, unencrypted: 2, staleSync: 3, outdatedOs: 5 } });
  const graphConfig = { tenant_id: graph.tenantId, client_id: graph.clientId, authority_url: graph.url, graph_url: graph.url };
  // GitHub: one simulated organization, read through a GitHub App installation.
  const github = await startGitHubSimulator({ population: { members: 60, membersWithout2fa: 2, repositories: 40, dependabotAlerts: 15, staleCriticalOrHigh: 2, openSecretAlerts: 1 } });
  const config = loadConfig({
    ...process.env,
    PORT: process.env.PORT || String(await freePort()),
    HUB_DATA_DIR: dataDir,
    HUB_TEMPORAL_PORT: String(await freePort()),
    HUB_TEMPORAL_UI_PORT: String(await freePort()),
    HUB_ALLOW_PRIVATE_NETWORKS: 'true',
    LOG_LEVEL: 'warn',
  });
  say('Starting Evidence Hub (embedded Temporal, PGlite)…');
  const hub = await startHub(config, 'all', { logger: createLogger('warn'), progress: say });
  const adminKey = hub.bootstrap?.generatedKey ?? process.env.HUB_ADMIN_KEY!;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(hub.url + url, { method, headers: { 'x-api-key': adminKey, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json().catch(() => null)) as Record<string, any> | null; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json)}`);
    return json!;
  };

  // A webhook receiver that verifies every delivery with the standardwebhooks library.
  const receiver = await WebhookReceiver.start();
  const subscription = await call('POST', '/api/v1/webhooks', { url: receiver.url, description: 'demo receiver', events: ['run.started', 'run.completed', 'run.failed', 'control.failed', 'evidence.rejected', 'evidence.ambiguous'] });
  const verifier = new Webhook(subscription.secret as string);
  const verifiedEvents = () => receiver.received.map((h) => {
    try {
      return { ok: true, event: verifier.verify(h.body, { 'webhook-id': h.id, 'webhook-timestamp': h.timestamp, 'webhook-signature': h.signature }) as { type: string; data: Record<string, unknown> } };
    } catch {
      return { ok: false, event: JSON.parse(h.body) as { type: string; data: Record<string, unknown> } };
    }
  });

  const destination = await call('POST', '/api/v1/destinations', { name: 'AUDIGYD (simulated)', type: 'audigyd', config: { base_url: audigyd.url }, secrets: { api_key: audigyd.apiKey } });
  const sources: { pack: string; assessment: string; type: string; config: object; secrets: object; datasets: string[] }[] = [
    { pack: 'okta', assessment: OKTA_ASSESSMENT.id, type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken }, datasets: ['okta.users', 'okta.password_policies'] },
    { pack: 'jamf', assessment: ASSESSMENT.id, type: 'jamf', config: { base_url: jamf.url, client_id: jamf.clientId }, secrets: { client_secret: jamf.clientSecret }, datasets: ['jamf.computers'] },
    { pack: 'entra', assessment: GRAPH_ASSESSMENT.id, type: 'entra', config: graphConfig, secrets: { client_secret: graph.clientSecret }, datasets: ['entra.users', 'entra.mfa_registration', 'entra.directory_roles', 'entra.conditional_access', 'entra.security_defaults'] },
    { pack: 'intune', assessment: GRAPH_ASSESSMENT.id, type: 'intune', config: graphConfig, secrets: { client_secret: graph.clientSecret }, datasets: ['intune.managed_devices', 'intune.compliance_policies'] },
    { pack: 'github', assessment: GITHUB_ASSESSMENT.id, type: 'github', config: { org: github.org, api_url: github.apiUrl, auth_method: 'app', app_id: github.appId, installation_id: github.installationId }, secrets: { private_key: github.appPrivateKey }, datasets: ['github.org', 'github.members', 'github.repositories', 'github.dependabot_alerts', 'github.secret_scanning_alerts'] },
    ...(moto ? [{ pack: 'aws', assessment: ASSESSMENT.id, type: 'aws', config: { auth: 'static', access_key_id: 'AKIAIOSFODNN7EXAMPLE', endpoint: moto.url }, secrets: { secret_access_key: 'demo' }, datasets: ['aws.credential_report', 'aws.password_policy', 'aws.account_summary', 'aws.cloudtrail_trails', 'aws.s3_account_public_access_block'] }] : []),
  ];
  if (!moto) say('(moto_server is not installed: the AWS job is left out; pip install "moto[server]" to include it)');

  const runs: { pack: string; location: string }[] = [];
  for (const source of sources) {
    const connection = await call('POST', '/api/v1/connections', { name: `${source.type} (simulated)`, type: source.type, config: source.config, secrets: source.secrets });
    const mapping = await call('POST', '/api/v1/mappings', { name: `${source.pack} pack`, pack: source.pack });
    const job = await call('POST', '/api/v1/jobs', { name: `${source.pack} → AUDIGYD`, connection_id: connection.id, datasets: source.datasets, mapping_id: mapping.id, destination_id: destination.id, target: { assessment_id: source.assessment } });
    const run = await call('POST', `/api/v1/jobs/${job.id}/runs`);
    runs.push({ pack: source.pack, location: `/api/v1/runs/${run.id}` });
  }
  say(`Triggered ${runs.length} runs; waiting for them…`);
  for (const { pack, location } of runs) {
    let run = await call('GET', location);
    while (['queued', 'running'].includes(run.status)) {
      await new Promise((r) => setTimeout(r, 500));
      run = await call('GET', location);
    }
    say();
    say(`== ${pack}: run ${run.id} ${run.status} — collected ${run.counts.collected} records, ${run.counts.evidence} evidence items, ${run.counts.delivered} delivered, ${run.counts.ambiguous} ambiguous, ${run.counts.rejected} rejected`);
    for (const item of run.items) {
      say(`   ${String(item.result).padEnd(5)} ${String(item.status).padEnd(9)} ${item.control_ref} / ${item.question_match}${item.error ? `  (${item.error})` : ''}`);
    }
  }
  say();
  say(`What arrived at AUDIGYD: ${audigyd.state.evidence.length} evidence items`);
  for (const e of audigyd.state.evidence) say(`   ${e.assessmentId} ${e.questionId.padEnd(18)} ${String(e.result).padEnd(5)} ${e.title}`);
  // Posture: where the checks stand, and what of ISO 27001 they cover.
  const posture = (await call('GET', '/api/v1/posture')) as { checks: Record<string, number> };
  say();
  say(`Posture: ${Object.entries(posture.checks).map(([status, n]) => `${n} ${status}`).join(', ')}`);
  const iso = (await call('GET', '/api/v1/frameworks/iso27001?covered=true')) as { covered: number; requirements: number; requirement_coverage: { id: string; title: string; status: string; checks: { id: string }[] }[] };
  say(`ISO/IEC 27001:2022 Annex A: ${iso.covered} of ${iso.requirements} requirements covered`);
  for (const r of iso.requirement_coverage) say(`   ${r.id.padEnd(5)} ${r.status.padEnd(7)} ${r.title} (${r.checks.length} check${r.checks.length === 1 ? '' : 's'})`);
  await new Promise((r) => setTimeout(r, 1_500));
  const events = verifiedEvents();
  say();
  say(`Webhooks received at ${receiver.url}: ${events.length} (${events.filter((e) => e.ok).length} verified with the standardwebhooks library)`);
  const byType = new Map<string, number>();
  for (const { event } of events) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
  for (const [type, n] of byType) say(`   ${type.padEnd(20)} ${n}`);
  for (const { event } of events.filter((e) => e.event.type === 'control.failed').slice(0, 5)) say(`   finding: ${String(event.data.title)}`);
  say();
  say(`Console ${hub.url}/ · API ${hub.url}/api/v1 (reference ${hub.url}/docs) · Temporal UI ${hub.temporalUiUrl} · admin key ${hub.bootstrap!.generatedKey ?? '(HUB_ADMIN_KEY)'}`);

  const stop = async () => {
    await hub.stop();
    await Promise.all([okta.close(), jamf.close(), graph.close(), github.close(), audigyd.close(), receiver.down()]);
    moto?.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  if (once) {
    await stop();
    process.exit(0);
  }
  say('Press Ctrl-C to stop.');
  const onSignal = () => { void stop().then(() => process.exit(0)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
