import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, dag } from '../support/api.js';
import { startTestApp, type TestApp } from '../support/app.js';

// Task groups (docs/dynamic-pipelines.md): tasks name their group, dependsOn may name a group (all its tasks), the
// API returns each task's group.

let t: TestApp;
let api: Api;

beforeAll(async () => {
  t = await startTestApp();
  api = new Api(t.app);
});
afterAll(async () => {
  await t.close();
});

describe('task groups', () => {
  it('a task depending on a group waits for every task in it; the version shows each task with its group', async () => {
    await api.registerDag(
      dag('grp', [
        { taskId: 'e1', group: 'extract' },
        { taskId: 'e2', group: 'extract' },
        { taskId: 'load', dependsOn: ['extract'] },
      ], { groups: [{ groupId: 'extract', tooltip: 'Pull the sources' }] }),
    );
    const version = await api.ok('GET', '/api/v1/dags/grp/versions/1');
    const tasks = version.document.tasks;
    expect(tasks.map((x: any) => [x.taskId, x.group ?? null, x.dependsOn])).toEqual([
      ['e1', 'extract', []],
      ['e2', 'extract', []],
      ['load', null, ['e1', 'e2']],
    ]);
    expect(version.document.groups).toEqual([{ groupId: 'extract', tooltip: 'Pull the sources' }]);
    const run = await api.trigger('grp');
    const first = await api.lease('w', { queues: ['grp'] });
    expect(first.map((l) => l.taskId).sort()).toEqual(['e1', 'e2']);
    await api.complete(first[0].leaseId, { status: 'success' });
    expect((await api.taskStates('grp', run.runId)).load).toBe('none');
    await api.complete(first[1].leaseId, { status: 'success' });
    expect((await api.taskStates('grp', run.runId)).load).toBe('queued');
  });

  it('refuses an undeclared group, a group id that is a task id, and a task depending on its own group', async () => {
    const res = await api.call(
      'POST',
      '/api/v1/dags/validate',
      dag('grp_bad', [
        { taskId: 'a', group: 'nope' },
        { taskId: 'b', group: 'g', dependsOn: ['g'] },
      ], { groups: [{ groupId: 'g' }, { groupId: 'a' }] }),
    );
    const text = JSON.stringify(res.body);
    expect(text).toContain("unknown group 'nope'");
    expect(text).toContain("'a' is already a task id");
    expect(text).toContain("cannot depend on its own group 'g'");
  });
});
