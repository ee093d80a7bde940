import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_MISSING, collectPageErrors, keyedApi, launchChromium, startService, type RunningService } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';

/**
 * Hostile data in every field the console shows (HTML, scripts, `javascript:` and markdown links, ANSI escapes, a
 * 100,000-character log line) is shown as text: nothing of it becomes an element or runs. And a hand-edited link with
 * malformed percent-encoding shows "Nothing at …" instead of stopping the console (decodeURIComponent threw).
 */
const ADMIN = 'weft_test_admin_key_console_hostile_0123456789';
let db: TestDatabase;
let svc: RunningService;
let browser: Browser;
let page: Page;
let errors: string[];
const api = keyedApi(() => svc.base, ADMIN);

/** Would set window.__xss = tag if it ever ran. */
const evil = (tag: string) =>
  `<img src=x onerror="window.__xss='${tag}'"><script>window.__xss='${tag}'</script>[link](javascript:window.__xss='${tag}') javascript:alert(1) \u001b[31mred\u001b[0m`;
/** What the page would hold had it rendered any of it as markup; a long line making the page scroll sideways. */
const injected = () =>
  page.evaluate<{ xss: unknown; elements: string[]; overflow: boolean }>(`({
    xss: window.__xss ?? null,
    elements: [...document.querySelectorAll('main img, main script, main iframe, a[href^="javascript"]')].map((e) => e.outerHTML.slice(0, 80)),
    overflow: document.documentElement.scrollWidth > window.innerWidth + 1,
  })`);

(BROWSER_MISSING ? describe.skip : describe)('the console with hostile data', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    svc = await startService(db.url, { WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_SCHEDULER_TICK_MS: '200' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = collectPageErrors(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await db?.drop();
  });

  it('shows HTML, scripts and links from DAGs, runs, logs, pools, keys and the audit log as text', async () => {
    await api('POST', '/api/v1/dags', {
      dagId: 'hostile',
      description: evil('description'),
      schedule: null,
      tags: ['<img src=x onerror=alert(1)>'],
      params: { p: evil('params') },
      defaultArgs: { owner: evil('owner') },
      tasks: [
        { taskId: 'a', type: 'shell', command: `printf '%s\\n' '<img src=x onerror=alert(1)>'; printf '\\033[31mred\\033[0m\\n'; head -c 100000 /dev/zero | tr '\\000' L; echo` },
        { taskId: 'b', type: 'shell', command: 'echo "<script>alert(1)</script>" >&2; exit 1', dependsOn: ['a'], retries: 0 },
      ],
    });
    await api('POST', '/api/v1/dags/hostile/dagRuns', { runId: 'r1', conf: { c: evil('conf'), href: 'javascript:alert(1)' } });
    await api('POST', '/api/v1/pools', { name: 'hostile_pool', slots: 1, description: evil('pool') });
    await api('POST', '/api/v1/apiKeys', { name: evil('key').slice(0, 100), role: 'viewer' });
    for (let i = 0; i < 200; i++) {
      if ((await api('GET', '/api/v1/dags/hostile/dagRuns/r1')).state === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }

    await page.goto(`${svc.base}/`);
    await page.getByLabel('API key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const routes: Array<[string, string]> = [
      ['#/dags', 'hostile'],
      ['#/dags/hostile', 'hostile'],
      ['#/dags/hostile/graph', 'hostile'],
      ['#/dags/hostile/code', 'onerror'],
      ['#/dags/hostile/runs/r1', 'javascript:alert(1)'],
      ['#/dags/hostile/runs/r1/tasks/a', '<img src=x onerror=alert(1)>'],
      ['#/dags/hostile/runs/r1/tasks/b', '<script>alert(1)</script>'],
      ['#/pools', 'hostile_pool'],
      ['#/keys', 'onerror'],
      ['#/audit', 'hostile'],
    ];
    for (const [hash, text] of routes) {
      await page.goto(`${svc.base}/${hash}`);
      await page.locator('main').getByText(text).first().waitFor();
      expect({ hash, ...(await injected()) }).toEqual({ hash, xss: null, elements: [], overflow: false });
    }
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows "Nothing at" for a link with malformed percent-encoding, and goes on working', async () => {
    await page.goto(`${svc.base}/#/dags/%E0%A4%A`);
    await page.locator('main').getByText('Nothing at').waitFor();
    await page.getByRole('link', { name: 'Back to the DAGs' }).click();
    await page.getByRole('link', { name: 'hostile' }).first().waitFor();
    expect(errors).toEqual([]);
  });
});
