/* global document, sessionStorage -- in-page code run by Chromium */
// The console's grid in a real browser: a DAG of 50 tasks with 100 runs (5,000 cells), opened in Debian's headless
// Chromium (playwright-core, the same setup as the console's browser tests). Two figures per page load, each the
// median of several loads: from the grid's data arriving to the grid painted (render), and from navigation to the
// grid painted (load: page, scripts, the two GraphQL requests of the grid and the render). Measured, not asserted
// (issue 24's goal: render ≤ 1 s). Skipped, with a note, where there is no Chromium or no built console.
import fs from 'node:fs';
import { buildPath } from '../lib/weft.mjs';
import { noop, withService, SERVICE_ENV } from './common.mjs';

const CHROMIUM = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export async function consoleGrid(ctx, rep, { runs = 100, tasks = 50, loads = ctx.quick ? 3 : 7 } = {}) {
  if (!fs.existsSync(CHROMIUM)) return console.error(`  console grid skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  if (!fs.existsSync(buildPath('console/dist/index.html'))) return console.error('  console grid skipped: the build has no console (a --ref build, or npm run build not run)');
  const { chromium } = await import('playwright-core');
  await withService(ctx, async ({ svc, api }) => {
    // Ten layers of five: every task but the first layer depends on one of the layer before.
    const names = Array.from({ length: tasks }, (_, i) => `task_${String(i).padStart(2, '0')}`);
    await api.ok('POST', '/api/v1/dags', { dagId: 'bench_grid', schedule: null, maxActiveRuns: runs, tasks: names.map((n, i) => noop(n, i >= 5 ? [names[i - 5]] : [])) });
    const base = Date.UTC(2024, 0, 1);
    for (let i = 0; i < runs; i++) {
      const runId = `r${String(i).padStart(3, '0')}`;
      await api.ok('POST', '/api/v1/dags/bench_grid/dagRuns', { runId, logicalDate: new Date(base + i * 86400e3).toISOString() });
      // A mix of states, as a grid shows them: most runs done (success, or failed with the rest skipped), some open.
      if (i % 10 < 7) await api.ok('PATCH', `/api/v1/dags/bench_grid/dagRuns/${runId}`, { state: i % 10 === 3 ? 'failed' : 'success' });
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.addInitScript((key) => sessionStorage.setItem('weft.apiKey', key), SERVICE_ENV.WEFT_ADMIN_API_KEY);
      const renders = [];
      const pageLoads = [];
      let cells = 0;
      for (let i = 0; i < loads; i++) {
        await page.goto(`${svc.url}/?runs=${runs}&load=${i}#/dags/bench_grid`);
        const m = await page.waitForFunction(() => {
          const done = performance.getEntriesByName('weft:grid-rendered')[0];
          const data = performance.getEntriesByName('weft:grid-data')[0];
          return done && data ? { render: done.startTime - data.startTime, load: done.startTime, cells: document.querySelectorAll('table.grid a.cell').length } : null;
        }, undefined, { timeout: 60_000, polling: 50 }).then((h) => h.jsonValue());
        renders.push(m.render);
        pageLoads.push(m.load);
        cells = m.cells;
      }
      if (cells !== runs * tasks) throw new Error(`the grid showed ${cells} cells, expected ${runs * tasks}`);
      const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      ctx.record({ workload: 'console', variant: `grid_${runs}x${tasks}`, rep, runs, tasks, cells, loads,
        grid_render_ms: +median(renders).toFixed(1), grid_load_ms: +median(pageLoads).toFixed(1),
        grid_render_ms_all: renders.map((x) => +x.toFixed(1)), chromium: browser.version() });
    } finally {
      await browser.close();
    }
  });
}
