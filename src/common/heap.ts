import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full GC before it collects again. Left to
 * itself V8 picks the factor from how fast the program allocates, up to 4× under load, so a busy replica with
 * ~60 MB alive settles at 300–400 MB of RSS; a fixed factor bounds that at a small cost in GC time
 * (docs/operations.md, "Memory"). `0` leaves V8's own heuristics. It applies to the whole process, so only the
 * `weft` command sets it; an application that embeds Weft (createApp) keeps its own settings.
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
