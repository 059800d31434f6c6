import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startAudigydSimulator, type AudigydSimulator } from '../simulators/audigyd.js';
import { OKTA_ASSESSMENT } from '../helpers/fixtures.js';
import { caller, startTestHub, type TestHub } from '../helpers/hub.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';
import { checkPage, launchBrowser, nav, newContext, signIn } from '../helpers/browser.js';

/**
 * An admin's first evening with the hub, in a real browser: sign in, connect Okta and test it,
 * add AUDIGYD, make a job from the built-in Okta pack, run it and watch it finish without
 * reloading, open an evidence item, redeliver a webhook, sign out. Every page on the way is
 * scanned with axe and photographed at both sizes.
 */
describe('the console, driven in Chromium through an admin’s whole journey', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let audigyd: AudigydSimulator;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    t = await startTestHub({ env: { HUB_DELIVERY_RETRY_INITIAL_MS: '200', HUB_DELIVERY_RETRY_MAX_MS: '1000', HUB_WEBHOOK_DISPATCH_INTERVAL: '50ms' } });
    okta = await startOktaSimulator({ population: { total: 60, admins: 4, adminsWithoutMfa: 1, withoutMfa: 6, deprovisioned: 3 }, rateLimit: false });
    audigyd = await startAudigydSimulator({ assessments: [OKTA_ASSESSMENT], rateLimit: false, uploadRateLimit: false });
    receiver = await WebhookReceiver.start();
    const hook = await t.call('POST', '/api/v1/webhooks', { json: { url: receiver.url, description: 'the team’s receiver', events: ['run.completed', 'run.failed'] } });
    expect(hook.status, hook.text).toBe(201);
    browser = await launchBrowser();
    page = await (await newContext(browser)).newPage();
    page.setDefaultTimeout(15_000);
  });
  afterAll(async () => { await browser?.close(); await receiver?.down(); await okta?.close(); await audigyd?.close(); await t?.stop(); });

  it('signs in with an API key', async () => {
    await page.goto(t.url + '/');
    await checkPage(page, 'sign-in');
    await page.getByLabel('API key').fill('ehk_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/not accepted/);
    await signIn(page, t.url, t.adminKey);
    // The page names itself once its first answer is in.
    await expect.poll(() => page.title()).toBe('Posture · Evidence Hub');
    await checkPage(page, 'posture-empty');
  });

  it('creates an Okta connection against the simulator and tests it', async () => {
    await nav(page, 'Connections').click();
    await checkPage(page, 'connections-empty');
    await page.getByRole('link', { name: 'New connection' }).first().click();
    await checkPage(page, 'new-connection');
    await page.getByRole('button', { name: 'Choose Okta' }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Okta production');
    await page.getByLabel('Base URL').fill(okta.url);
    await page.getByLabel('Auth method').selectOption('api_token');
    await page.getByLabel('API token').fill(okta.apiToken);
    await checkPage(page, 'new-connection-okta');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Okta production' }).waitFor();
    // The secret is never shown again: not in the page, not in anything the page fetched.
    expect(await page.content()).not.toContain(okta.apiToken);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByRole('main').innerText(), { timeout: 20_000 }).toMatch(/Connected|succeeded|works/i);
    await checkPage(page, 'connection');
  });

  it('adds an AUDIGYD destination', async () => {
    await nav(page, 'Connections').click();
    await page.getByRole('link', { name: 'New destination' }).first().click();
    await page.getByRole('button', { name: /^Choose AUDIGYD/i }).click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('AUDIGYD');
    await page.getByLabel('Base URL').fill(audigyd.url);
    await page.getByLabel('API key').fill(audigyd.apiKey);
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page.getByRole('heading', { level: 1, name: 'AUDIGYD' }).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => page.getByRole('main').innerText(), { timeout: 20_000 }).toMatch(/Connected|succeeded|works/i);
  });

  let runUrl = '';
  it('creates a job from the built-in Okta pack, runs it, and watches the run finish without a reload', async () => {
    await nav(page, 'Jobs').click();
    await checkPage(page, 'jobs-empty');
    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Nightly Okta');
    await page.getByRole('combobox', { name: 'Connection' }).selectOption({ label: 'Okta production' });
    await page.getByRole('checkbox', { name: 'okta.users' }).check();
    await page.getByRole('checkbox', { name: 'okta.password_policies' }).check();
    await page.getByRole('button', { name: 'Create from pack' }).click();
    await page.getByRole('combobox', { name: 'Pack' }).selectOption({ label: 'Okta identity' });
    await page.getByRole('button', { name: 'Create mapping' }).click();
    await expect.poll(() => page.getByRole('combobox', { name: 'Mapping', exact: true }).evaluate((select) => (select as unknown as { value: string }).value)).toMatch(/^map_/);
    await page.getByRole('combobox', { name: 'Destination' }).selectOption({ label: 'AUDIGYD' });
    await page.getByRole('textbox', { name: 'Assessment ID' }).fill('asm_okta');
    await page.getByRole('textbox', { name: 'Cron' }).fill('30 2 * * 1-5');
    await page.getByRole('textbox', { name: 'Time zone' }).fill('America/New_York');
    await checkPage(page, 'new-job');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { level: 1, name: 'Nightly Okta' }).waitFor();
    // The next five runs, as Temporal computes them for the schedule's time zone.
    const job = (await t.call('GET', '/api/v1/jobs')).body.data[0];
    expect(job.next_runs).toHaveLength(5);
    await expect.poll(() => page.getByRole('main').getByRole('listitem').filter({ has: page.locator('time') }).count()).toBeGreaterThanOrEqual(5);
    await checkPage(page, 'job');

    // A marker that a reload would wipe: the run page must update by itself.
    await page.evaluate('window.__stillTheSamePage = true');
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('heading', { level: 1, name: /^Run / }).waitFor();
    runUrl = page.url();
    expect(runUrl).toMatch(/\/runs\/run_/);
    await expect.poll(() => page.getByRole('main').getByText(/^(succeeded|partial)$/).count(), { timeout: 60_000 }).toBeGreaterThan(0);
    expect(await page.evaluate('window.__stillTheSamePage')).toBe(true);
    const main = await page.getByRole('main').innerText();
    for (const step of ['collect okta.users', 'collect okta.password_policies', 'evaluate', 'deliver']) expect(main).toContain(step);
    const runId = runUrl.split('/').pop()!;
    const run = await t.call('GET', `/api/v1/runs/${runId}`);
    expect(['succeeded', 'partial']).toContain(run.body.status);
    expect(audigyd.state.evidence.length).toBe(run.body.counts.delivered);
    await checkPage(page, 'run');
  });

  it('opens an evidence item from the run', async () => {
    await page.getByRole('link', { name: /^View evidence item Access Control/ }).first().click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('main').innerText()).toContain('Access Control');
    expect(await page.getByRole('main').innerText()).toMatch(/payload_sha256|Payload/i);
    await checkPage(page, 'evidence');
  });

  it('redelivers a webhook delivery from the delivery log', async () => {
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const before = receiver.received.length;
    await nav(page, 'Webhooks').click();
    await checkPage(page, 'webhooks');
    await page.getByRole('link', { name: receiver.url }).click();
    await page.getByRole('button', { name: 'Redeliver' }).first().waitFor();
    await checkPage(page, 'webhook');
    await page.getByRole('button', { name: 'Redeliver' }).first().click();
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(before + 1);
    // The same webhook-id: receivers deduplicate a redelivery like a retry.
    expect(receiver.received.at(-1)!.id).toBe(receiver.received[0]!.id);
  });

  it('visits every other page', async () => {
    for (const [section, name] of [['Posture', 'posture'], ['Runs', 'runs'], ['Mappings', 'mappings'], ['Audit log', 'audit-log'], ['API keys', 'api-keys']] as const) {
      await nav(page, section).click();
      await page.getByRole('heading', { level: 1, name: section }).waitFor();
      await checkPage(page, name);
    }
    await nav(page, 'Audit log').click();
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('main').innerText()).toMatch(/Intact/);
    await checkPage(page, 'audit-log-verified');
  });

  it('signs out: the session cookie no longer works', async () => {
    const cookie = (await page.context().cookies(t.url)).find((c) => c.name === 'eh_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const before = await caller(t.url, null)('GET', '/api/v1/me', { headers: { cookie: `eh_session=${cookie.value}` } });
    expect(before.status).toBe(200);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    const after = await caller(t.url, null)('GET', '/api/v1/me', { headers: { cookie: `eh_session=${cookie.value}` } });
    expect(after.status).toBe(401);
  });
});
