import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTaskPayload } from '../../src/engine/leases/domain/render-task.js';
import { buildTemplateContext } from '../../src/templating/domain/template-context.js';
import type { DagTask } from '../../src/dags/domain/dag-document.schema.js';
import { testContext } from '../../src/worker/executors/executor-testing.js';
import { ShellExecutor, type ShellTaskPayload } from '../../src/worker/executors/shell.executor.js';

/**
 * Run conf rendered into a shell task reaches the command as data: the value is printed literally and nothing it
 * spells runs, for each way a command may hold it (unquoted, '…', "…", here-document) and for the argv form.
 */
describe('shell tasks with hostile run conf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-shell-'));
  const marker = join(dir, 'pwned');
  const hostile = `$(touch ${marker}) \`touch ${marker}\`; touch ${marker} 'single' "double" \\ $HOME\nsecond line`;
  const context = buildTemplateContext({
    dagId: 'd', runId: 'r', logicalDate: new Date('2024-01-15T06:00:00Z'), dataIntervalStart: new Date('2024-01-15T06:00:00Z'),
    dataIntervalEnd: new Date('2024-01-16T06:00:00Z'), params: {}, conf: { x: hostile }, xcom: {},
  });
  const run = async (task: Record<string, unknown>) => {
    const payload = renderTaskPayload({ taskId: 't', type: 'shell', ...task } as unknown as DagTask, context) as ShellTaskPayload;
    const t = testContext();
    const result = await new ShellExecutor().execute(payload, t.ctx);
    return { result, stdout: t.stdout().join('\n') };
  };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['unquoted', 'printf %s {{ dag_run.conf.x }}'],
    ['single-quoted', "printf %s '{{ dag_run.conf.x }}'"],
    ['double-quoted', 'printf %s "{{ dag_run.conf.x }}"'],
    ['in $( )', 'printf %s "$(printf %s {{ dag_run.conf.x }})"'],
    ['here-document', 'cat <<EOF\n{{ dag_run.conf.x }}\nEOF'],
  ])('%s: receives the value literally and runs none of it', async (_name, command) => {
    const { result, stdout } = await run({ command });
    expect(result.status).toBe('success');
    expect(stdout).toBe(hostile);
    expect(existsSync(marker)).toBe(false);
  });

  it('argv form: no shell at all, each element one argument', async () => {
    const { result, stdout } = await run({ argv: ['printf', '%s|%s', '{{ dag_run.conf.x }}', '{{ ds }}'] });
    expect(result.status).toBe('success');
    expect(stdout).toBe(`${hostile}|2024-01-15`);
    expect(existsSync(marker)).toBe(false);
  });

  it('existing commands keep working: echo {{ ds }}', async () => {
    const { result, stdout } = await run({ command: 'echo {{ ds }} {{ ds_nodash }}' });
    expect(result.status).toBe('success');
    expect(stdout).toBe('2024-01-15 20240115');
  });
});
