// /proc readers: CPU and memory of one process, and CPU used by everything that is not this benchmark.
import fs from 'node:fs';
import os from 'node:os';

const HZ = 100; // USER_HZ

function statFields(pid) {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return st.slice(st.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system) a process has used. */
export function procCpuS(pid) {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / HZ;
}

/** Resident set size of a process in MiB (VmRSS), or its peak so far (VmHWM). */
export function rssMb(pid, field = 'VmRSS') {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Samples a process's RSS every `ms` until stopped; returns the peak in MiB. */
export function rssPeakSampler(pid, ms = 50) {
  let peak = 0;
  const sample = () => { try { peak = Math.max(peak, rssMb(pid)); } catch { /* exited */ } };
  sample();
  const t = setInterval(sample, ms);
  return () => { clearInterval(t); sample(); return peak; };
}

/** Busy and total CPU seconds of the whole machine. */
export function machineCpuS() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / HZ, total: total / HZ };
}

/**
 * A PostgreSQL backend serving someone else's database (its title reads `postgres: 15/main: user DB host(port) …`).
 * Backends of this run's databases, the peer scripts' (`bench_*`), `postgres` and the server's own background
 * processes count as ours: they serve the benchmark, or cannot be told apart.
 */
function otherUsersBackend(cmd) {
  const m = cmd.match(/^postgres: [^:]+: \S+ (\S+) /);
  if (!m) return false;
  const db = m[1];
  return !(db.startsWith(`weft_bench_${process.pid}_`) || db.startsWith('bench_') || db === 'postgres');
}

function snapshot() {
  const procs = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = statFields(d);
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
      procs.set(Number(d), { ppid: Number(f[1]), start: f[19], cpu: (Number(f[11]) + Number(f[12])) / HZ, cmd });
    } catch { /* gone */ }
  }
  const ours = (pid) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = procs.get(p)?.ppid ?? 0, hops++) if (p === process.pid) return true;
    return false;
  };
  const foreign = new Map();
  for (const [pid, p] of procs) {
    if (ours(pid) || (p.cmd.startsWith('postgres') && !otherUsersBackend(p.cmd))) continue;
    foreign.set(`${pid}:${p.start}`, p.cpu);
  }
  return foreign;
}

/**
 * CPU seconds used by processes outside this benchmark's process tree, PostgreSQL backends of other databases
 * included (other users' tests), between start() and the returned function's call. A lower bound: processes that exited meanwhile are
 * not counted. The machine is shared; a high value flags a disturbed measurement.
 */
export function foreignCpu() {
  const a = snapshot();
  return () => {
    let t = 0;
    for (const [k, v] of snapshot()) t += v - (a.get(k) ?? 0);
    return +t.toFixed(2);
  };
}

export function machine() {
  const cpus = os.cpus();
  return { cores: cpus.length, cpu_model: cpus[0]?.model?.trim(), mem_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: os.release(), node: process.version };
}

/**
 * CPU seconds used by the PostgreSQL backends serving one database (its title reads `postgres: 15/main: user DB …`)
 * between the call and the returned function's call: what the database work of a measurement cost, apart from
 * everything else on a shared machine. A lower bound: backends that exited meanwhile are not counted (the service's
 * pooled connections stay open through a measurement).
 */
export function dbBackendsCpu(dbName) {
  const snap = () => {
    const out = new Map();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        const m = cmd.match(/^postgres: [^:]+: \S+ (\S+) /);
        if (!m || m[1] !== dbName) continue;
        const f = statFields(d);
        out.set(`${d}:${f[19]}`, (Number(f[11]) + Number(f[12])) / HZ);
      } catch { /* gone */ }
    }
    return out;
  };
  const a = snap();
  return () => {
    let t = 0;
    for (const [k, v] of snap()) t += v - (a.get(k) ?? 0);
    return +t.toFixed(2);
  };
}
