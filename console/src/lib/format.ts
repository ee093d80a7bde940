/** Times are shown in UTC, as the API gives them (logical dates are UTC instants), to the second. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/:00Z$/, 'Z');
}

export function fmtDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined) return '—';
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  if (sec < 60) return `${sec.toFixed(1)} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} min ${Math.round(sec % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fmtSchedule(schedule: unknown): string {
  if (schedule === null || schedule === undefined) return 'manual';
  if (typeof schedule === 'string') return schedule;
  return JSON.stringify(schedule);
}
