import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { checkPage, launchBrowser, nav, newContext, signIn } from '../helpers/browser.js';

/** Names of controls that create, change, delete or trigger something. */
const WRITE_CONTROLS = /^(new |create|add |delete|revoke|remove|edit|save|run now|collect now|test connection|cancel|redeliver|rotate|send test|recover|pause|resume|use this pack|restore|publish)/i;

describe('the console shows a key only what its scopes allow, and ends its session when the key is revoked', () => {
  let t: TestHub;
  let browser: Browser;
  let reader: { id: string; key: string };
  beforeAll(async () => {
    t = await startTestHub();
    // Something on every page, so that per-row controls would have a row to appear on.
    const connection = await t.call('POST', '/api/v1/connections', { json: { name: 'HR export', type: 'push', config: { datasets: [{ name: 'users' }] } } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: 'http://127.0.0.1:9' }, secrets: { api_key: 'x' } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'HR push', connection_id: connection.body.id, datasets: ['push.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'a' } },
    });
    expect(job.status, job.text).toBe(201);
    const run = await t.call('POST', `/api/v1/jobs/${job.body.id}/runs`, { json: { input: { 'push.users': [{ id: 'u1', mfa: true }] } } });
    expect(run.status, run.text).toBe(202);
    await t.call('POST', '/api/v1/webhooks', { json: { url: 'https://example.com/hook', events: ['run.completed'] } });
    const created = await t.call('POST', '/api/v1/api-keys', { json: { name: 'run watcher', scopes: ['runs:read'] } });
    reader = { id: created.body.id, key: created.body.key };
    browser = await launchBrowser();
  });
  afterAll(async () => { await browser?.close(); await t?.stop(); });

  it('a runs:read key sees runs but no create, change or delete control; its hand-made write is a 403', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, t.url, reader.key);
    for (const section of ['Posture', 'Connections', 'Jobs', 'Runs', 'Mappings', 'Webhooks', 'Audit log', 'API keys']) {
      await nav(page, section).click();
      await page.getByRole('heading', { level: 1 }).waitFor();
      await checkPage(page, `scoped-${section.toLowerCase().replace(/ /g, '-')}`);
      const controls = [...await page.getByRole('button').allInnerTexts(), ...await page.getByRole('main').getByRole('link').allInnerTexts()];
      expect(controls.filter((name) => WRITE_CONTROLS.test(name.trim())), section).toEqual([]);
    }
    // Runs are what this key may read: the run page opens, without Cancel.
    await nav(page, 'Runs').click();
    const firstRun = page.getByRole('main').getByRole('link', { name: /run_|^run /i }).first();
    await firstRun.click();
    await page.getByRole('heading', { level: 1, name: /^Run/ }).waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    // A page needing another scope says which.
    await nav(page, 'Audit log').click();
    await expect.poll(() => page.getByRole('main').innerText()).toContain('audit:read');

    // A request made by hand with this session's cookie and its CSRF token: refused for the scope.
    const handMade = await page.evaluate(async () => {
      const session = await (await fetch('/api/v1/sessions/current')).json() as { csrf_token: string };
      const res = await fetch('/api/v1/webhooks', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token }, body: JSON.stringify({ url: 'https://evil.example/h', events: ['run.completed'] }) });
      return { status: res.status, body: await res.json() as { missing_scopes?: string[] } };
    });
    expect(handMade.status).toBe(403);
    expect(handMade.body.missing_scopes).toEqual(['config:write']);
    const hooks = await t.call('GET', '/api/v1/webhooks');
    expect(hooks.body.data.map((w: { url: string }) => w.url)).not.toContain('https://evil.example/h');

    // Revoked elsewhere: the next thing the user does returns to sign-in.
    expect((await t.call('DELETE', `/api/v1/api-keys/${reader.id}`)).status).toBe(204);
    await nav(page, 'Runs').click();
    await page.getByLabel('API key').waitFor();
    await expect.poll(() => page.getByRole('status').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringMatching(/session has ended/)]));
    await context.close();
  });

  it('works with the keyboard alone: sign in, skip to content, reach a page from the navigation', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(t.url + '/');
    // The key field has focus on arrival; Enter submits.
    await page.getByLabel('API key').waitFor();
    await expect.poll(() => page.evaluate('document.activeElement.id')).toBe('api-key');
    await page.keyboard.type(t.adminKey);
    await page.keyboard.press('Enter');
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const focusedText = () => page.evaluate('document.activeElement && document.activeElement.textContent') as Promise<string>;
    // Focus lands on the page's heading; the navigation comes before it.
    await expect.poll(() => page.evaluate('document.activeElement.tagName')).toBe('H1');
    for (let i = 0; i < 30 && (await focusedText()) !== 'Runs'; i++) await page.keyboard.press('Shift+Tab');
    expect(await focusedText()).toBe('Runs');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
    // Focus moves to the new page's heading, so that a screen reader announces it.
    await expect.poll(() => page.evaluate('document.activeElement.textContent')).toBe('Runs');
    expect(await page.evaluate('document.activeElement.tagName')).toBe('H1');
    // The first stop of the page is the skip link.
    for (let i = 0; i < 40 && (await focusedText()) !== 'Skip to content'; i++) await page.keyboard.press('Shift+Tab');
    expect(await focusedText()).toBe('Skip to content');
    for (let i = 0; i < 40 && (await focusedText()) !== 'Sign out'; i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByLabel('API key').waitFor();
    await context.close();
  });
});
