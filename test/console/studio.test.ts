import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaSimulator, type OktaSimulator } from '../simulators/index.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { collect, createConnection } from '../helpers/collect.js';
import { checkPage, launchBrowser, nav, newContext, signIn } from '../helpers/browser.js';
import { rulesToText } from '../../console/src/pages/studio/yaml-edit.js';

/**
 * The mapping studio in Chromium, on the Okta pack's rules and a real collection from the
 * Okta simulator: a threshold edited and previewed without saving, a broken JSONPath marked
 * on its line, an exclusion from a failing record, a rule reset to its pack, publish, the diff
 * of two versions, restore, a burst of typing that previews only the last text, the keyboard.
 */
describe('the mapping studio', () => {
  let t: TestHub;
  let okta: OktaSimulator;
  let browser: Browser;
  let page: Page;
  let mappingId = '';
  let original = '';
  const previews = { completed: [] as string[], failed: [] as string[] };

  beforeAll(async () => {
    t = await startTestHub();
    okta = await startOktaSimulator({ population: { total: 40, admins: 3, adminsWithoutMfa: 1, withoutMfa: 5, deprovisioned: 2 }, rateLimit: false });
    const connection = await createConnection(t.call, { name: 'Okta production', type: 'okta', config: { base_url: okta.url, auth_method: 'api_token' }, secrets: { api_token: okta.apiToken } });
    const collection = await collect(t.call, connection, ['okta.users', 'okta.password_policies']);
    expect(collection.status, collection.error ?? '').toBe('succeeded');
    const created = await t.call('POST', '/api/v1/mappings', { json: { name: 'Okta studio', pack: 'okta' } });
    expect(created.status, created.text).toBe(201);
    mappingId = created.body.id;
    original = rulesToText(created.body.rules, 'yaml');
    browser = await launchBrowser();
    page = await (await newContext(browser)).newPage();
    page.setDefaultTimeout(15_000);
    const sourceOf = (body: string | null) => { try { return (JSON.parse(body ?? '{}') as { source?: { text: string } }).source?.text ?? ''; } catch { return ''; } };
    page.on('response', (response) => {
      if (response.url().endsWith('/api/v1/mappings/preview') && response.status() === 200) previews.completed.push(sourceOf(response.request().postData()));
    });
    page.on('requestfailed', (request) => { if (request.url().endsWith('/api/v1/mappings/preview')) previews.failed.push(sourceOf(request.postData())); });
    await signIn(page, t.url, t.adminKey);
  });
  afterAll(async () => { await browser?.close(); await okta?.close(); await t?.stop(); });

  const editor = () => page.getByRole('textbox', { name: 'Rules' });
  const preview = () => page.getByRole('region', { name: 'Preview' });
  const rule = (id: string) => preview().getByRole('article', { name: new RegExp(`^${id}`) });
  /** Replaces the editor's text as a paste would. */
  async function replaceText(text: string) {
    await editor().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
  }
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('opens the Okta pack’s mapping with its rules in the editor and a preview on the collected data', async () => {
    await nav(page, 'Mappings').click();
    await page.getByRole('link', { name: 'Okta studio' }).click();
    await page.getByRole('heading', { level: 1, name: 'Okta studio' }).waitFor();
    await expect.poll(() => editor().innerText()).toContain('okta-mfa-active-users');
    await expect.poll(() => rule('okta-password-min-length').innerText(), { timeout: 20_000 }).toMatch(/^fail/);
    expect(await rule('okta-password-min-length').innerText()).toMatch(/\b1\s+failing/);
    expect(await preview().innerText()).toContain('Okta production');
    await checkPage(page, 'mapping-studio');
  });

  const relaxed = () => original.replace('min_length: 12', 'min_length: 8');
  it('previews a changed threshold at once, without saving', async () => {
    expect(original).toContain('min_length: 12');
    await replaceText(relaxed());
    await expect.poll(() => rule('okta-password-min-length').innerText(), { timeout: 20_000 }).toMatch(/^pass/);
    expect(await rule('okta-password-min-length').innerText()).not.toMatch(/failing/);
    expect(await rule('okta-password-min-length').innerText()).toContain('at least 8 characters');
    expect(await page.getByText('unpublished changes').count()).toBe(1);
    const stored = await t.call('GET', `/api/v1/mappings/${mappingId}`);
    expect(stored.body.version).toBe(1);
  });

  it('compares with the published version: which checks change result', async () => {
    await preview().getByRole('checkbox', { name: 'Compare with published' }).check();
    await expect.poll(() => preview().innerText(), { timeout: 20_000 }).toMatch(/1 of 6 checks change result against version 1/);
    expect(await rule('okta-password-min-length').innerText()).toMatch(/Published:\s*fail\s*→ now\s*pass/);
    await preview().getByRole('checkbox', { name: 'Compare with published' }).uncheck();
  });

  it('marks an invalid JSONPath on its line', async () => {
    const broken = relaxed().replace("select: $[?(@.status == 'ACTIVE')]", 'select: "$[?(@.status == "');
    expect(broken).not.toBe(relaxed());
    const line = lineOf(broken, 'select: "$[?(@.status == "');
    await replaceText(broken);
    await expect.poll(() => page.getByRole('button', { name: new RegExp(`^Line ${line}, column`) }).count(), { timeout: 20_000 }).toBe(1);
    // The fault's button takes the cursor (and the view) to its line.
    await page.getByRole('button', { name: new RegExp(`^Line ${line}, column`) }).click();
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Rules');
    await expect.poll(() => page.locator('.cm-lint-marker-error').count()).toBeGreaterThan(0);
    expect(await page.locator('.cm-line', { has: page.locator('.cm-lintRange-error') }).first().innerText()).toContain('select: "$[?(@.status == "');
    expect(await page.getByRole('status').filter({ hasText: /JSONPath/ }).innerText()).toContain(`Line ${line}`);
    // The marker's line in the gutter is the line of the fault.
    const gutterLine = await page.locator('.cm-lineNumbers .cm-gutterElement').filter({ hasText: new RegExp(`^${line}$`) }).boundingBox();
    const marker = await page.locator('.cm-lint-marker-error').first().boundingBox();
    expect(Math.abs(gutterLine!.y - marker!.y)).toBeLessThan(8);
    await replaceText(relaxed());
    await expect.poll(() => page.locator('.cm-lint-marker-error').count(), { timeout: 20_000 }).toBe(0);
  });

  it('works with the keyboard only: Tab into the editor, type, Tab out', async () => {
    await page.getByRole('button', { name: 'JSON' }).focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).toBe('Rules');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# checked by keyboard');
    await expect.poll(() => editor().innerText()).toContain('# checked by keyboard');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.getAttribute("aria-label")')).not.toBe('Rules');
    expect(await page.evaluate('document.activeElement?.tagName')).toMatch(/BUTTON|A|INPUT/);
    await replaceText(relaxed());
  });

  it('excludes a failing record from a rule: the text gains the exclusion and the preview updates at once', async () => {
    const mfa = rule('okta-mfa-active-users');
    await expect.poll(() => mfa.innerText(), { timeout: 20_000 }).toMatch(/(\d+)\s+failing/);
    const before = Number(/(\d+)\s+failing/.exec(await mfa.innerText())![1]);
    await mfa.getByText(/^Failing records/).click();
    await mfa.getByRole('button', { name: /^Exclude/ }).first().click();
    await mfa.getByRole('textbox', { name: 'Reason' }).fill('Service account, MFA by hardware token');
    await mfa.getByLabel('Expires (optional)').fill('2030-01-31');
    await mfa.getByRole('button', { name: 'Add exclusion' }).click();
    await expect.poll(() => rule('okta-mfa-active-users').innerText(), { timeout: 20_000 }).toMatch(/1 excluded/);
    expect(await rule('okta-mfa-active-users').innerText()).toContain(`${before - 1} failing`);
    // The text changed (the rule now differs from the pack's), not the published version.
    await expect.poll(() => page.getByRole('listitem').filter({ hasText: /^okta-mfa-active-users/ }).innerText()).toContain('overridden');
    expect((await t.call('GET', `/api/v1/mappings/${mappingId}`)).body.version).toBe(1);
    await checkPage(page, 'mapping-studio-excluded');
  });

  it('marks the rules that differ from the pack and resets one to the pack’s rule', async () => {
    const outlined = (id: string) => page.getByRole('listitem').filter({ hasText: new RegExp(`^${id}`) });
    expect(await outlined('okta-mfa-active-users').innerText()).toContain('overridden');
    expect(await outlined('okta-password-min-length').innerText()).toContain('overridden');
    expect(await outlined('okta-password-lockout').innerText()).toContain('as in pack');
    await expect.poll(() => page.getByRole('button', { name: /^Reset to pack/ }).count()).toBe(2);
    await page.getByRole('button', { name: /^Reset to pack\W+okta-mfa-active-users/ }).click();
    await expect.poll(() => page.getByRole('button', { name: /^Reset to pack/ }).count()).toBe(1);
    expect(await outlined('okta-mfa-active-users').innerText()).toContain('as in pack');
    await expect.poll(() => rule('okta-mfa-active-users').innerText(), { timeout: 20_000 }).not.toMatch(/excluded/);
  });

  it('publishes the text as version 2', async () => {
    await replaceText(relaxed());
    await page.getByRole('textbox', { name: 'Message' }).fill('Password minimum length 8, as the policy says');
    await page.getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => page.getByRole('main').innerText()).toContain('Published version 2');
    const stored = await t.call('GET', `/api/v1/mappings/${mappingId}`);
    expect(stored.body).toMatchObject({ version: 2, source_format: 'yaml', message: 'Password minimum length 8, as the policy says' });
    expect(stored.body.source).toBe(relaxed());
    await page.getByRole('table', { name: 'Versions, newest first' }).getByRole('cell', { name: 'Password minimum length 8, as the policy says' }).waitFor();
  });

  it('diffs version 1 and version 2 side by side', async () => {
    await page.getByRole('combobox', { name: 'Compare version' }).selectOption('1');
    await page.getByRole('combobox', { name: 'with version' }).selectOption('2');
    const diff = page.getByRole('region', { name: 'Changes from version 1 to version 2' });
    await diff.waitFor();
    await expect.poll(() => page.getByText('From version 1 to 2: 1 lines added, 1 removed.').count()).toBe(1);
    expect(await diff.locator('td.del').innerText()).toContain('min_length: 12');
    expect(await diff.locator('td.add').innerText()).toContain('min_length: 8');
    await diff.scrollIntoViewIfNeeded();
    await checkPage(page, 'mapping-studio-diff');
  });

  it('restores version 1 as version 3', async () => {
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await expect.poll(() => page.getByRole('main').innerText()).toContain('Version 1 restored as version 3');
    const versions = page.getByRole('table', { name: 'Versions, newest first' });
    await versions.getByRole('cell', { name: /Restored from version 1/ }).waitFor();
    expect(await versions.getByRole('row').nth(1).innerText()).toMatch(/^3/);
    const stored = await t.call('GET', `/api/v1/mappings/${mappingId}`);
    expect(stored.body).toMatchObject({ version: 3, restored_from: 1 });
    // The editor follows the restored version (it had no unpublished changes).
    await expect.poll(() => rule('okta-password-min-length').innerText(), { timeout: 20_000 }).toMatch(/^fail/);
  });

  it('previews only the last of five quick changes', async () => {
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Updating the preview' }).count()).toBe(0);
    previews.completed.length = 0;
    previews.failed.length = 0;
    await editor().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('#12345', { delay: 40 });
    await expect.poll(() => previews.completed.some((text) => text.endsWith('#12345')), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Updating the preview' }).count()).toBe(0);
    const stale = previews.completed.filter((text) => !text.endsWith('#12345'));
    expect(stale.length).toBeLessThanOrEqual(1);
    expect(previews.completed.filter((text) => text.endsWith('#12345'))).toHaveLength(1);
  });
});
