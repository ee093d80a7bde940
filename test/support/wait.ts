/** Polls `probe` until it returns a truthy value or the deadline passes (tests never sleep a fixed time). */
export async function waitFor<T>(probe: () => Promise<T>, what: string, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/**
 * Waits until `probe` says done, for as long as what it measures keeps moving: fails only when `progress` has not
 * changed for `stallMs` (a hang), not after a fixed total, so a busy machine that runs slowly still passes.
 */
export async function waitWhileProgressing<P>(
  probe: () => Promise<{ done: boolean; progress: P }>,
  what: string,
  stallMs = 60_000,
  everyMs = 200,
): Promise<void> {
  let last = await probe();
  let movedAt = Date.now();
  while (!last.done) {
    if (Date.now() - movedAt > stallMs) {
      throw new Error(`no progress for ${stallMs} ms waiting for ${what} (last: ${JSON.stringify(last.progress)})`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
    const next = await probe();
    if (JSON.stringify(next.progress) !== JSON.stringify(last.progress)) movedAt = Date.now();
    last = next;
  }
}
