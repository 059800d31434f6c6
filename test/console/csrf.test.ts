import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { launchBrowser, newContext, signIn } from '../helpers/browser.js';

/**
 * Another port of the same host is the same site, so SameSite=Strict still sends the session
 * cookie with a form that a page there submits to the hub: the CSRF check has to stop it.
 */
describe('CSRF: a page on another origin of the same host cannot change anything with the console session', () => {
  let t: TestHub;
  let browser: Browser;
  let attacker: Server;
  let attackerUrl: string;
  let jobId: string;
  let page = '';
  beforeAll(async () => {
    t = await startTestHub();
    // A job with nothing behind it: a run it started would show up in its listing.
    const connection = await t.call('POST', '/api/v1/connections', { json: { name: 'push', type: 'push', config: { datasets: [{ name: 'users' }] } } });
    const destination = await t.call('POST', '/api/v1/destinations', { json: { name: 'AUDIGYD', type: 'audigyd', config: { base_url: 'http://127.0.0.1:9' }, secrets: { api_key: 'x' } } });
    const mapping = await t.call('POST', '/api/v1/mappings', { json: { name: 'okta', pack: 'okta' } });
    const job = await t.call('POST', '/api/v1/jobs', {
      json: { name: 'target', connection_id: connection.body.id, datasets: ['push.users'], mapping_id: mapping.body.id, destination_id: destination.body.id, target: { assessment_id: 'a' } },
    });
    expect(job.status, job.text).toBe(201);
    jobId = job.body.id;
    attacker = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(page); });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    expect(new URL(attackerUrl).hostname).toBe(new URL(t.url).hostname);
    browser = await launchBrowser();
  });
  afterAll(async () => { await browser?.close(); attacker?.close(); await t?.stop(); });

  it('refuses an auto-submitted form post with no body and a text/plain JSON-looking post; the cookie was sent with both', async () => {
    const context = await newContext(browser);
    const tab = await context.newPage();
    await signIn(tab, t.url, t.adminKey);
    const cookies = await context.cookies(t.url);
    expect(cookies.find((c) => c.name === 'eh_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });

    // What the hub answers is what the attacker's tab navigates to: it proves the cookie arrived
    // (a request without it would be a 401 asking for a key, not a refused CSRF check).
    const forms = [
      { action: `${t.url}/api/v1/jobs/${jobId}/runs`, enctype: 'application/x-www-form-urlencoded', fields: '' },
      { action: `${t.url}/api/v1/api-keys`, enctype: 'text/plain', fields: '<input name=\'{"name":"evil","scopes":["admin"],"x":"\' value=\'"}\'>' },
    ];
    for (const form of forms) {
      page = `<!doctype html><title>cute cats</title><form method="POST" action="${form.action}" enctype="${form.enctype}">${form.fields}</form><script>document.forms[0].submit()</script>`;
      const evil = await context.newPage();
      const answered = evil.waitForResponse((r) => r.url() === form.action);
      await evil.goto(attackerUrl + '/');
      const response = await answered;
      expect((await response.request().allHeaders()).origin).toBe(attackerUrl);
      expect((await response.request().allHeaders()).cookie).toMatch(/eh_session=/);
      expect(response.status()).toBe(403);
      const problem = await response.json() as { type: string; detail: string };
      expect(problem.type).toMatch(/csrf-failed$/);
      await evil.close();
    }

    // Nothing changed: no run was started, no key created.
    const runs = await t.call('GET', `/api/v1/runs?job_id=${jobId}`);
    expect(runs.body.data).toEqual([]);
    const keys = await t.call('GET', '/api/v1/api-keys?limit=500');
    expect(keys.body.data.map((k: { name: string }) => k.name)).not.toContain('evil');

    // The same session still works from the console's own page.
    await tab.reload();
    await tab.getByRole('navigation', { name: 'Main' }).waitFor();
    await context.close();
  });
});
