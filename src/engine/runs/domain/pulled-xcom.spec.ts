import { describe, expect, it } from '@jest/globals';
import { shapePulledXcom } from './pulled-xcom.js';

describe('shapePulledXcom', () => {
  it("gives an unmapped task its own value and a mapped task the list of its instances' values in map index order", () => {
    const rows = [
      { taskId: 'load', key: 'return_value', mapIndex: 2, value: 'c' },
      { taskId: 'load', key: 'return_value', mapIndex: 0, value: 'a' },
      { taskId: 'list', key: 'return_value', mapIndex: -1, value: ['x'] },
      { taskId: 'list', key: 'rows', mapIndex: -1, value: 3 },
      { taskId: 'load', key: 'return_value', mapIndex: 1, value: 'b' },
      { taskId: 'load', key: 'extra', mapIndex: 1, value: 1 },
    ];
    expect(shapePulledXcom(rows, new Set(['load']))).toEqual({
      list: { return_value: ['x'], rows: 3 },
      load: { return_value: ['a', 'b', 'c'], extra: [1] },
    });
  });

  it("leaves out a mapped task's placeholder (map index -1) and an unmapped task's stray mapped rows", () => {
    const rows = [
      { taskId: 'm', key: 'return_value', mapIndex: -1, value: 'old' },
      { taskId: 'm', key: 'return_value', mapIndex: 0, value: 'new' },
      { taskId: 'u', key: 'return_value', mapIndex: 0, value: 'stray' },
      { taskId: 'u', key: 'return_value', mapIndex: -1, value: 'own' },
    ];
    expect(shapePulledXcom(rows, new Set(['m']))).toEqual({ m: { return_value: ['new'] }, u: { return_value: 'own' } });
  });

  it('is empty for tasks without XCom', () => {
    expect(shapePulledXcom([], new Set(['m']))).toEqual({});
  });
});
