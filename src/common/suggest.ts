/**
 * Airflow's names for fields Weft spells differently beyond case and underscores (`logical_date` → `logicalDate`
 * needs no entry): what an Airflow user sends first.
 */
const AIRFLOW_NAMES: Readonly<Record<string, string>> = { dag_run_id: 'runId', execution_date: 'logicalDate' };

/** The candidate a mistyped name most likely meant ('retires' → 'retries', 'depends_on' → 'dependsOn'), if any. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const known = [...candidates];
  const airflow = Object.hasOwn(AIRFLOW_NAMES, name) ? AIRFLOW_NAMES[name] : undefined;
  if (airflow !== undefined && known.includes(airflow)) return airflow;
  const wanted = normalise(name);
  const limit = wanted.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    if (candidate === name) continue;
    const distance = editDistance(wanted, normalise(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** ` (did you mean 'x'?)` when a close candidate exists, otherwise ''. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const guess = closestName(name, candidates);
  return guess === undefined ? '' : ` (did you mean '${guess}'?)`;
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => {
    const row = new Array<number>(b.length + 1).fill(0);
    row[0] = i;
    return row;
  });
  for (let j = 0; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[a.length][b.length];
}
