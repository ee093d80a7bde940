// Percentiles and medians, the same definitions as ../shared/peer-bench/lib.mjs (nearest rank).
export function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const r2 = (x) => Math.round(x * 100) / 100;

/** Distribution of one run's samples. */
export function summarize(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, min: r2(s[0]), p50: r2(pct(s, 50)), p95: r2(pct(s, 95)), p99: r2(pct(s, 99)), max: r2(s.at(-1)), mean: r2(mean) };
}

/** Median of several runs' figures (the mean of the middle two for an even count), with the range. */
export function medianOf(values) {
  const s = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median: r2(median), min: r2(s[0]), max: r2(s.at(-1)), n: s.length };
}

export { r2 };
