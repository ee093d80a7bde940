// Turns the records of one bench run into figures (medians over repetitions, with their range), ratios
// computed per repetition (same run, same database server), and the table printed at the end.
import { medianOf } from './stats.mjs';

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

export function figures(records) {
  const groups = new Map();
  for (const r of records) {
    const key = `${r.workload}/${r.variant}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(r);
  }
  /** Median over repetitions of one metric of one workload variant. */
  const m = (key, path) => medianOf((groups.get(key) ?? []).map((r) => get(r, path)));
  /** a / b computed within each repetition, then the median of those ratios. */
  const ratio = ([ka, pa], [kb, pb]) => {
    const bs = new Map((groups.get(kb) ?? []).map((r) => [r.rep, get(r, pb)]));
    return medianOf((groups.get(ka) ?? []).map((r) => get(r, pa) / bs.get(r.rep)));
  };
  return { m, ratio, has: (key) => groups.has(key) };
}

const fmtNum = (x) => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : String(+x.toFixed(2)));
/** "median (min–max)" or "median" when every repetition agrees; "–" when not measured. */
export function fmt(s, unit = '') {
  if (!s) return '–';
  const range = s.n > 1 && s.min !== s.max ? ` (${fmtNum(s.min)}–${fmtNum(s.max)})` : '';
  return `${fmtNum(s.median)}${unit}${range}`;
}
const fmtRatio = (s) => (s ? `${s.median.toFixed(2)}×${s.n > 1 && s.min !== s.max ? ` (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : ''}` : '–');

/** Rows of the results table: [section, figure, Weft, target, peers/ratio]. */
export function tableRows(records, sizes) {
  const { m, ratio } = figures(records);
  const rows = [];
  const row = (section, figure, weft, target = '', peers = '') => rows.push([section, figure, weft, target, peers]);
  const peer = (label, s, unit = '') => (s ? `${label} ${fmt(s, unit)}` : null);
  const join = (...xs) => xs.filter(Boolean).join('; ');
  const tp = (v) => `throughput/${v}`;
  const N = sizes.throughputTasks.toLocaleString('en-US');

  const floor = m('peer/floor_throughput', 'tasks_per_s');
  const gw = m('peer/gw_throughput', 'jobs_per_s');
  for (const [v, label, target, vs] of [
    ['single', 'single-task leases', '≥ 0.8× HTTP floor', 'floor'],
    ['single_next', 'single + complete-and-lease-next', '', 'floor'],
    ['batch10', 'capacity 10', '', 'gw'],
    ['batch10_next', 'capacity 10 + complete-and-lease-next', '≥ 1.5× graphile-worker', 'gw'],
    ['batch50', 'capacity 50', '', 'gw'],
    ['batch50_next', 'capacity 50 + complete-and-lease-next', '', 'gw'],
  ]) {
    const r = vs === 'floor' ? ratio([tp(v), 'tasks_per_s'], ['peer/floor_throughput', 'tasks_per_s'])
      : ratio([tp(v), 'tasks_per_s'], ['peer/gw_throughput', 'jobs_per_s']);
    row(`Throughput, ${N} no-op tasks, 10 workers (tasks/s)`, label, fmt(m(tp(v), 'tasks_per_s')), target,
      r ? `${fmtRatio(r)} ${vs === 'floor' ? 'HTTP floor' : 'graphile-worker'}` : '');
  }
  // Issue 22: two API replicas on one database against one (same repetition), synchronous_commit=off for
  // information, and group commit switched off (optional configs; `_gc_on` are runs from before it was the default).
  // A variant the run did not measure has no row.
  for (const [v, base, label] of [
    ['single_2replicas', 'single', 'single-task leases, two API replicas'],
    ['batch10_next_2replicas', 'batch10_next', 'capacity 10 + next, two API replicas'],
    ['single_sync_off', 'single', 'single-task leases, synchronous_commit=off (information only)'],
    ['single_gc_off', 'single', 'single-task leases, group commit off'],
    ['batch10_next_gc_off', 'batch10_next', 'capacity 10 + next, group commit off'],
    ['single_2replicas_gc_off', 'single_2replicas', 'single-task leases, two replicas, group commit off'],
    ['single_gc_on', 'single', 'single-task leases, group commit on'],
    ['batch10_next_gc_on', 'batch10_next', 'capacity 10 + next, group commit on'],
    ['single_2replicas_gc_on', 'single_2replicas', 'single-task leases, two replicas, group commit on'],
    ['single_gc_inflight1', 'single', 'single-task leases, group commit, one batch in flight'],
    ['batch10_next_gc_inflight1', 'batch10_next', 'capacity 10 + next, group commit, one batch in flight'],
    ['single_gc_inflight2', 'single', 'single-task leases, group commit, two batches in flight'],
    ['batch10_next_gc_inflight2', 'batch10_next', 'capacity 10 + next, group commit, two batches in flight'],
  ]) {
    if (!m(tp(v), 'tasks_per_s')) continue;
    const r = ratio([tp(v), 'tasks_per_s'], [tp(base), 'tasks_per_s']);
    const f = ratio([tp(v), 'tasks_per_s'], ['peer/floor_throughput', 'tasks_per_s']);
    row(`Throughput, ${N} no-op tasks, 10 workers (tasks/s)`, label, fmt(m(tp(v), 'tasks_per_s')), '',
      join(r ? `${fmtRatio(r)} ${base}` : null, f ? `${fmtRatio(f)} HTTP floor` : null));
  }
  row('', 'peers, same run', '', '', join(peer('HTTP floor', floor), peer('graphile-worker c10', gw),
    peer('pg-boss bs10', m('peer/pgboss_throughput', 'jobs_per_s')), peer('raw claim ×1', m('peer/raw_claim_batch1', 'rows_per_s')),
    peer('×10', m('peer/raw_claim_batch10', 'rows_per_s')), peer('×100', m('peer/raw_claim_batch100', 'rows_per_s'))));
  row('Service CPU per lease+complete (ms)', 'single-task leases', fmt(m(tp('single'), 'server_cpu_ms_per_task')), '≤ 0.5',
    peer('HTTP floor server', m('peer/floor_throughput', 'server_cpu_ms_per_task')));
  row('', 'capacity 10 + next', fmt(m(tp('batch10_next'), 'server_cpu_ms_per_task')), '≤ 0.5');
  row('CPU per lease+complete, all in: service + workers + PostgreSQL backends of its database (ms)', 'single-task leases',
    fmt(m(tp('single'), 'all_in_cpu_ms_per_task')), '≤ 0.65', join(peer('PostgreSQL part', m(tp('single'), 'pg_cpu_ms_per_task'))));
  for (const [v, label] of [['single_gc_off', 'single-task leases, group commit off'], ['single_gc_on', 'single-task leases, group commit on']]) {
    if (m(tp(v), 'all_in_cpu_ms_per_task')) {
      row('', label, fmt(m(tp(v), 'all_in_cpu_ms_per_task')), '', join(peer('PostgreSQL part', m(tp(v), 'pg_cpu_ms_per_task'))));
    }
  }
  row('', 'capacity 10 + next', fmt(m(tp('batch10_next'), 'all_in_cpu_ms_per_task')), '',
    join(peer('PostgreSQL part', m(tp('batch10_next'), 'pg_cpu_ms_per_task'))));

  for (const [v, label] of [['longpoll', 'long poll'], ['longpoll_next', 'complete-and-lease-next']]) {
    const k = `dispatch/${v}`;
    row('Dispatch: trigger → task in a waiting worker (ms)', `${label} p50 / p95 / p99`,
      `${fmt(m(k, 'ms.p50'))} / ${fmt(m(k, 'ms.p95'))} / ${fmt(m(k, 'ms.p99'))}`, v === 'longpoll' ? 'p50 ≤ 5, p99 ≤ 15' : '',
      v === 'longpoll' ? join(peer('HTTP floor p50', m('peer/floor_latency', 'ms.p50')), peer('p99', m('peer/floor_latency', 'ms.p99')),
        peer('graphile-worker p50', m('peer/gw_latency', 'ms.p50')), peer('p99', m('peer/gw_latency', 'ms.p99')),
        peer('pg-boss p50', m('peer/pgboss_latency', 'ms.p50')), peer('raw NOTIFY p50', m('peer/raw_notify_latency', 'ms.p50'))) : '');
  }
  for (const [v, label] of [['longpoll', 'long poll'], ['longpoll_next', 'complete-and-lease-next']]) {
    const k = `hops/${v}`;
    row('Per hop, A→B→C→D→E, waiting workers (ms)', `${label}: hop p50 / p95 / p99`,
      `${fmt(m(k, 'hop_ms.p50'))} / ${fmt(m(k, 'hop_ms.p95'))} / ${fmt(m(k, 'hop_ms.p99'))}`, v === 'longpoll' ? 'p50 ≤ 5, p95 ≤ 15' : '',
      v === 'longpoll' ? join(peer('HTTP floor p50', m('peer/floor_hops', 'hop_ms.p50')), peer('graphile-worker p50', m('peer/gw_hops', 'hop_ms.p50')),
        peer('pg-boss p50', m('peer/pgboss_hops', 'hop_ms.p50'))) : '');
    row('', `${label}: A's complete sent → B in hand p50`, fmt(m(k, 'complete_to_next_in_hand_ms.p50')));
    row('', `${label}: trigger → E in hand p50 / p99`, `${fmt(m(k, 'trigger_to_last_start_ms.p50'))} / ${fmt(m(k, 'trigger_to_last_start_ms.p99'))}`, '',
      v === 'longpoll' ? join(peer('HTTP floor p50', m('peer/floor_hops', 'add_to_E_start_ms.p50')), peer('graphile-worker p50', m('peer/gw_hops', 'add_to_E_start_ms.p50'))) : '');
  }
  for (const [v, label] of [['longpoll', 'long poll'], ['longpoll_next', 'complete-and-lease-next']]) {
    row('40 × 10 ms sequential chain, trigger → done (ms)', `${label} p50`, fmt(m(`chain40/${v}`, 'flow_total_ms.p50')), v === 'longpoll' ? '≤ 700' : '',
      v === 'longpoll' ? join(peer('HTTP floor', m('peer/floor_chain40', 'flow_total_ms.p50')), peer('graphile-worker', m('peer/gw_chain40', 'flow_total_ms.p50'))) : '');
  }

  const S = 'Scheduler';
  const k = (n) => n.toLocaleString('en-US');
  for (const n of sizes.dueRuns) {
    const started = Math.min(n, 1000);
    row(S, `${k(n)} due runs × 5 tasks, one tick, ${k(started)} started, first tasks queued (ms)`, fmt(m(`scheduler/due_runs_${n}`, 'ms')),
      n === 1000 ? '≤ 200' : '', n === 1000 ? join(peer('raw set-based', m('peer/raw_backfill', 'bulk_ms')),
        peer('raw 1 stmt/run', m('peer/raw_backfill', 'per_run_stmt_ms')), peer('raw row-by-row', m('peer/raw_backfill', 'naive_ms'))) : '');
  }
  for (const n of sizes.dueRuns) {
    row(S, `backfill ${k(n)} dates × 5 tasks: POST → ${k(Math.min(n, 1000))} runs started, first tasks queued (ms)`, fmt(m(`scheduler/backfill_${n}`, 'ms')),
      n === 1000 ? '≤ 200' : n === 10000 ? '≤ 2,000' : '');
  }
  const ev = 'scheduler/evaluate_1000_task_run';
  row(S, 'complete root of 1 → 999 fan-out, 999 queued (ms, HTTP)', fmt(m(ev, 'complete_fan_root_ms')));
  row(S, 'complete one leaf of that 1,000-task run (ms, HTTP)', fmt(m(ev, 'complete_fan_leaf_ms')));
  row(S, 'complete head of a 1,000-task chain (ms, HTTP)', fmt(m(ev, 'complete_chain_head_ms')));
  row(S, 'same call on a 5-task run, for reference (ms, HTTP)', fmt(m(ev, 'complete_5_task_run_ms')));
  row(S, 'expand a mapped task to 1,000 instances: upstream complete → all 1,000 queued (ms, HTTP)',
    fmt(m('scheduler/expand_1000', 'complete_to_all_queued_ms')), '≤ 200');
  const rs = 'scheduler/resolve_downstream_1000';
  row(S, 'resolveDownstream alone, 1,000 tasks: fan root / leaf / chain head (µs)',
    `${fmt(m(rs, 'fan_root_us'))} / ${fmt(m(rs, 'fan_leaf_us'))} / ${fmt(m(rs, 'chain_head_us'))}`);
  const dags = sizes.tickDags;
  row(S, `one tick, ${dags.toLocaleString('en-US')} hourly DAGs each with a run due (ms)`, fmt(m(`scheduler/tick_${dags}_dags`, 'tick_ms')));
  row(S, `the next hour's tick, ${dags.toLocaleString('en-US')} DAGs, one run due each (ms)`, fmt(m(`scheduler/tick_${dags}_dags`, 'next_hour_tick_ms')));
  row(S, `idle tick, ${dags.toLocaleString('en-US')} DAGs, nothing due (ms)`, fmt(m(`scheduler/tick_${dags}_dags`, 'idle_tick_ms')));

  const F = 'Footprint, RSS (MB)';
  row(F, 'service idle (API process, external PostgreSQL)', fmt(m('footprint/idle', 'service_rss_idle_mb')), '≤ 150');
  row(F, '`weft start` idle (API + scheduler + built-in worker)', fmt(m('footprint/idle', 'weft_start_rss_idle_mb')), '≤ 150');
  row(F, 'service, after a minute idle (V8 has given back its start-up heap)', fmt(m('footprint/idle', 'service_rss_after_long_idle_mb')), '≤ 150');
  row(F, '`weft start`, after a minute idle', fmt(m('footprint/idle', 'weft_start_rss_after_long_idle_mb')), '≤ 150');
  row(F, 'peak under workload 2 (capacity 10 + next) + 50 long-pollers', fmt(m('throughput/batch10_next+50_longpollers', 'service_rss_peak_mb')), '≤ 250',
    join(peer('HTTP floor server', m('peer/floor_throughput', 'server_peak_rss_mb')), peer('graphile-worker', m('peer/gw_throughput', 'rss_mb')),
      peer('pg-boss', m('peer/pgboss_throughput', 'rss_mb'))));
  row(F, 'peak under workload 2, single-task leases', fmt(m(tp('single'), 'service_rss_peak_mb')));

  const C = 'Console in headless Chromium (ms)';
  row(C, 'grid of 100 runs × 50 tasks: data arrived → painted (median of the loads)', fmt(m('console/grid_100x50', 'grid_render_ms')), '≤ 1,000');
  row(C, 'grid of 100 runs × 50 tasks: navigation → painted (page, scripts, GraphQL, render)', fmt(m('console/grid_100x50', 'grid_load_ms')));
  return rows.filter((r) => /\d/.test(r[2]) || r[4]);
}

export function textTable(rows) {
  const out = [];
  let section = null;
  for (const [s, figure, weft, target, peers] of rows) {
    if (s && s !== section) { out.push('', s); section = s; }
    out.push(`  ${figure.padEnd(84)} ${weft.padEnd(26)} ${target ? `[target ${target}]` : ''}${peers ? `  peers: ${peers}` : ''}`);
  }
  return out.join('\n');
}

export function markdownTable(rows) {
  const esc = (s) => String(s).replaceAll('|', '\\|');
  const out = ['| section | figure | Weft: median (range) | target | peers, same run |', '|---|---|---|---|---|'];
  let section = null;
  for (const [s, figure, weft, target, peers] of rows) {
    const shown = s && s !== section ? s : '';
    if (s) section = s;
    out.push(`| ${esc(shown)} | ${esc(figure)} | ${esc(weft)} | ${esc(target)} | ${esc(peers)} |`);
  }
  return out.join('\n');
}
