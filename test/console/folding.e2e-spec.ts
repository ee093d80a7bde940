import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { BROWSER_MISSING, collectPageErrors, keyedApi, launchChromium, shot, startService, type RunningService } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-admin.js';

/**
 * Task groups and mapped tasks in the console (issue 24: "mapped tasks and groups folded"), in headless Chromium
 * against `weft start` on PostgreSQL: a group is one row (one node in the graph) until unfolded, a mapped task one
 * cell per run with the worst state of its instances and their counts, unfolded into one row per map index; one
 * mapped instance has its own page (log, clear of that instance alone); a queued task says why it waits.
 */
const ADMIN = 'weft_test_admin_key_console_fold_0123456789';

let db: TestDatabase;
let svc: RunningService;
let browser: Browser;
let page: Page;
let errors: string[];
let gates: string;

const api = keyedApi(() => svc.base, ADMIN);


const go = (hash: string) => page.evaluate(`window.location.hash = ${JSON.stringify(hash)}`);
const cell = (label: string, runId: string) => page.locator(`a.cell[aria-label^="${label} in ${runId}:"]`);
const row = (key: string) => page.locator(`table.grid tr[data-task="${key}"]`);
/** Controls of the page without an accessible name (the same check as console.e2e-spec.ts). */
const unlabelled = () =>
  page.evaluate<string[]>(`[...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button, main a[href], main summary, main [tabindex]:not([tabindex="-1"])')]
    .filter((el) => {
      if ((el.getAttribute('aria-label') || '').trim()) return false;
      if (el.matches('input, select, textarea')) return !(el.closest('label') || (el.id && document.querySelector('label[for="' + el.id + '"]')));
      return !(el.textContent || '').trim();
    })
    .map((el) => el.outerHTML.slice(0, 120))`);

(BROWSER_MISSING ? describe.skip : describe)('groups and mapped tasks in the console', () => {
  beforeAll(async () => {
    db = await createTestDatabase();
    svc = await startService(db.url, { WEFT_AUTH: 'on', WEFT_ADMIN_API_KEY: ADMIN, WEFT_SCHEDULER_TICK_MS: '200' });
    gates = await mkdtemp(join(tmpdir(), 'weft-console-fold-'));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    errors = collectPageErrors(page);
    await page.goto(`${svc.base}/`);
    await page.getByLabel('API key').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await db?.drop();
    if (gates) await rm(gates, { recursive: true, force: true });
  });

  it('folds a group into one row and a mapped task into one cell per run, and unfolds them by keyboard and click', async () => {
    await api('POST', '/api/v1/dags', {
      dagId: 'console_fold',
      schedule: null,
      groups: [{ groupId: 'extract', tooltip: 'the sources' }],
      tasks: [
        { taskId: 'orders', type: 'shell', command: 'echo orders', group: 'extract' },
        { taskId: 'customers', type: 'noop', group: 'extract' },
        {
          taskId: 'each',
          type: 'shell',
          dependsOn: ['extract'],
          retries: 0,
          expand: { part: ['a', 'b', 'c'] },
          // Part c fails until the test opens the gate.
          command: `echo part {{ expand.part }} of {{ map_index }}; if [ {{ expand.part }} = c ] && [ ! -f ${gates}/fixed ]; then echo "c broke" >&2; exit 4; fi`,
        },
        { taskId: 'report', type: 'noop', dependsOn: ['each'] },
      ],
    });
    await api('POST', '/api/v1/dags/console_fold/dagRuns', { runId: 'f1' });
    await go('#/dags/console_fold');

    // Folded: the group is one row with its tasks' summary, the mapped task one cell with its instances' counts.
    // Until every instance has ended (the cell turns failed as soon as part c fails, while a and b may still run).
    await cell('each', 'f1').and(page.locator('[data-state="failed"][data-count="2/3 success, 1 failed"]')).waitFor({ timeout: 60_000 });
    expect(await cell('each', 'f1').getAttribute('data-count')).toBe('2/3 success, 1 failed');
    expect(await cell('each', 'f1').getAttribute('aria-label')).toBe('each in f1: failed; 2/3 success, 1 failed');
    expect(await cell('extract', 'f1').getAttribute('data-state')).toBe('success');
    expect(await row('orders').count()).toBe(0);
    expect(await row('each[0]').count()).toBe(0);
    expect(await page.locator('table.grid tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-task')))).toEqual(['group:extract', 'each', 'report']);

    // The group unfolds from the keyboard (its button is in the tab order) and folds again with a click.
    const unfoldGroup = page.getByRole('button', { name: 'Unfold group extract (2 tasks)' });
    await unfoldGroup.focus();
    await page.keyboard.press('Enter');
    await row('customers').waitFor();
    expect(await cell('orders', 'f1').getAttribute('data-state')).toBe('success');
    await page.getByRole('button', { name: 'Fold group extract (2 tasks)' }).click();
    await row('orders').waitFor({ state: 'detached' });

    // The mapped task unfolds into one row per map index.
    await page.getByRole('button', { name: 'Unfold the instances of each' }).click();
    await row('each[2]').waitFor();
    expect(await Promise.all([0, 1, 2].map((i) => cell(`each [${i}]`, 'f1').getAttribute('data-state')))).toEqual(['success', 'success', 'failed']);
    await shot(page, 'grid-folded');
    // The fold state is kept for the tab: a reload shows the instances still unfolded.
    await page.reload();
    await row('each[1]').waitFor();
  });

  it('opens one mapped instance’s page with its own log, and clears that instance alone', async () => {
    await cell('each [1]', 'f1').click();
    await page.waitForURL(/#\/dags\/console_fold\/runs\/f1\/tasks\/each\/1$/);
    await page.getByLabel('Log of try 1').filter({ hasText: 'part b of 1' }).waitFor();
    expect(await page.locator('main h1').innerText()).toContain('each [1]');
    await page.getByLabel('Rendered command').filter({ hasText: 'part b of 1' }).waitFor();
    expect(await unlabelled()).toEqual([]);

    // The failed instance: its log, then a clear whose preview names that instance (and the downstream task) only.
    await go('#/dags/console_fold/runs/f1/tasks/each/2');
    await page.getByLabel('Log of try 1').filter({ hasText: 'c broke' }).waitFor();
    await page.getByRole('button', { name: 'Clear…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clear each [2]' });
    const preview = dialog.getByRole('list', { name: 'Task instances affected' });
    await preview.waitFor();
    expect((await preview.getByRole('listitem').allInnerTexts()).map((l) => l.split(' (')[0]).sort()).toEqual(['f1 / each [2]', 'f1 / report']);
    await shot(page, 'task-mapped');
    await writeFile(join(gates, 'fixed'), '');
    await dialog.getByRole('button', { name: 'Confirm clear' }).click();
    await page.locator('.page-head .badge[data-state="success"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('.page-head').innerText()).toContain('try 2 of');

    // Back on the grid the folded cell has moved on by itself: every instance succeeded, and the run with them.
    await page.getByRole('link', { name: 'console_fold' }).click();
    await cell('each', 'f1').and(page.locator('[data-count="3/3 success"]')).waitFor({ timeout: 30_000 });
    await page.locator('th[data-run="f1"] .run-state.s-success').waitFor({ timeout: 30_000 });
    // The run page lists each instance, linked to its page.
    await go('#/dags/console_fold/runs/f1');
    await page.getByRole('link', { name: 'each [2]' }).waitFor();
    expect(await page.locator('tr[data-task="each"]').count()).toBe(3);
    // The mapped task's address without a map index: the API's 404 and a link to each instance.
    await go('#/dags/console_fold/runs/f1/tasks/each');
    const instances = page.getByRole('list', { name: 'Instances of each' });
    await instances.getByRole('link', { name: 'each [2]' }).waitFor();
    expect(await instances.getByRole('link').count()).toBe(3);
    expect(await page.getByRole('alert').innerText()).toMatch(/3/);
  });

  it('folds the group into one node of the graph, which unfolds from the keyboard', async () => {
    await go('#/dags/console_fold/graph');
    const groupNode = page.getByRole('button', { name: /^Unfold group extract \(2 tasks\): success$/ });
    await groupNode.waitFor();
    expect(await page.locator('.dag-graph g.node[data-task="orders"]').count()).toBe(0);
    expect(await page.locator('.dag-graph g.node[data-task="each"]').getAttribute('data-state')).toBe('success');
    expect(await page.locator('.dag-graph g.node[data-task="each"]').textContent()).toContain('3/3 success');
    await groupNode.focus();
    await page.keyboard.press('Enter');
    await page.locator('.dag-graph g.node[data-task="orders"]').waitFor();
    await page.locator('.dag-graph g.cluster[data-group="extract"]').waitFor();
    await shot(page, 'graph-group');
    await page.getByRole('button', { name: 'Fold group extract' }).click();
    await page.locator('.dag-graph g.node[data-task="orders"]').waitFor({ state: 'detached' });
    expect(await unlabelled()).toEqual([]);
  });

  it('says why a queued task does not start', async () => {
    await api('POST', '/api/v1/dags', { dagId: 'console_stuck', schedule: null, tasks: [{ taskId: 'wait', type: 'noop', pool: 'console_nowhere' }] });
    await api('POST', '/api/v1/dags/console_stuck/dagRuns', { runId: 's1' });
    await go('#/dags/console_stuck/runs/s1/tasks/wait');
    await page.locator('[data-state-reason]').filter({ hasText: "pool 'console_nowhere' does not exist" }).waitFor({ timeout: 30_000 });
  });

  it('keeps the workers page current without a reload', async () => {
    await api('POST', '/api/v1/dags', {
      dagId: 'console_lease',
      schedule: null,
      tasks: [{ taskId: 'hold', type: 'shell', command: `while [ ! -f ${gates}/release ]; do sleep 0.05; done` }],
    });
    await go('#/workers');
    await page.locator('tr[data-worker]').first().waitFor();
    await page.evaluate('window.weftNoReload = true');
    // The lease appears, then goes once the task ends, with the page left alone.
    await api('POST', '/api/v1/dags/console_lease/dagRuns', { runId: 'w1' });
    const held = page.locator('tr[data-lease$=":console_lease/w1/hold"]');
    await held.waitFor({ timeout: 30_000 });
    await writeFile(join(gates, 'release'), '');
    await held.waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.evaluate('window.weftNoReload')).toBe(true);
  });

  it('left no errors in the browser console', () => {
    expect(errors).toEqual([]);
  });
});
