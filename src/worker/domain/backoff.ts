/**
 * The wait before sending a refused-for-now request again (a 503 while the database is down, a network error):
 * doubling from `baseMs` up to `capMs`, each wait drawn between half and all of that (so workers that failed together
 * do not all come back at the same instant). The cap is short on purpose: a worker's completion should land within
 * a couple of seconds of the service coming back. `random` is in [0, 1).
 */
export function backoffMs(attempt: number, random: number, baseMs = 250, capMs = 2000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
