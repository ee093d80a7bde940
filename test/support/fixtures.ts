/** A valid DAG document in the shape of DESIGN §2; tests override fields. */
export function dagDoc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dagId: 'daily_etl',
    description: 'Daily ETL',
    schedule: '0 6 * * *',
    timezone: 'Europe/Amsterdam',
    startDate: '2024-01-01T00:00:00Z',
    catchup: true,
    maxActiveRuns: 3,
    params: { region: 'eu' },
    tags: ['etl'],
    defaultArgs: { retries: 3, retryDelaySec: 300, owner: 'data-eng' },
    tasks: [
      { taskId: 'extract', type: 'shell', command: 'echo extract {{ ds }}' },
      { taskId: 'transform', type: 'noop', dependsOn: ['extract'] },
      {
        taskId: 'load',
        type: 'http',
        request: { method: 'POST', url: 'http://127.0.0.1:9/load', body: { date: '{{ ds }}' } },
        dependsOn: ['transform'],
      },
    ],
    ...overrides,
  };
}
