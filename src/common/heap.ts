import v8 from 'node:v8';
import vm from 'node:vm';

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

/** V8's own `--semi-space-growth-factor` (`node --v8-options`): each growth of the young generation doubles it. */
const YOUNG_GENERATION_GROWTH_FACTOR = 2;

/**
 * While the `weft` command loads its modules and boots the app it allocates ~150 MB, most of it garbage at once,
 * and V8 answers that by growing its young generation to its maximum (2 × 16 MB), memory an idle process then
 * holds until V8's memory reducer hands it back, 15–60 s later. Held at its initial size while the process boots
 * (bin/weft.js calls this before it loads the CLI), the young generation costs ~280 more scavenges of a few
 * hundred KB each during boot (no measurable difference in time to ready) and stays at 2–4 MB;
 * {@link releaseBootMemory} lets it grow again once the process is up, so a busy process sizes it as before.
 */
export function holdYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}

/** The young generation may grow again (commands that are not servers: they never call releaseBootMemory). */
export function releaseYoungGeneration(): void {
  v8.setFlagsFromString(`--semi-space-growth-factor=${YOUNG_GENERATION_GROWTH_FACTOR}`);
}

/**
 * Once a server process has booted (before it listens): the young generation may grow again, and two full,
 * compacting collections give back the old-generation pages its boot left fragmented, ~15 MB more. V8 would do the
 * same by itself only once the process has allocated little for a while (its memory reducer); done here, the idle
 * RSS of a fresh `weft start` is ~140 MB from its first second instead of ~170 MB for its first 15–60 s
 * (docs/operations.md, "Memory"). Costs one pause of ~50–100 ms, before the port is open. `--optimize-for-size`
 * is what makes a forced collection compact as the memory reducer's do; it is set only around these two
 * collections. Only the `weft` command calls this; an application that embeds Weft keeps its own settings.
 */
export function releaseBootMemory(): void {
  releaseYoungGeneration();
  v8.setFlagsFromString('--expose-gc');
  // A context created while --expose-gc is set has `gc`; the process's own global never gets one.
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
  v8.setFlagsFromString('--no-expose-gc');
  if (typeof gc !== 'function') return;
  v8.setFlagsFromString('--optimize-for-size');
  try {
    // The first collection frees the boot's garbage; the second compacts the pages the first could only sweep.
    gc();
    gc();
  } finally {
    v8.setFlagsFromString('--no-optimize-for-size');
  }
}
