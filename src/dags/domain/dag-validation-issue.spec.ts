import { describe, expect, it } from '@jest/globals';
import { formatIssuePath } from './dag-validation-issue.js';

describe(formatIssuePath.name, () => {
  it.each([
    [[], ''],
    [['dagId'], 'dagId'],
    [['tasks', 2, 'dependsOn', 0], 'tasks[2].dependsOn[0]'],
    [['params', 'my key'], 'params["my key"]'],
    [['tasks', 0, 'request', 'headers', 'Content-Type'], 'tasks[0].request.headers["Content-Type"]'],
  ])('formats %j as %p', (path, text) => {
    expect(formatIssuePath(path)).toBe(text);
  });
});
