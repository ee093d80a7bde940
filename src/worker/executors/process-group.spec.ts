import { describe, expect, it } from '@jest/globals';
import { parseProcStat } from './process-group.js';

describe(parseProcStat.name, () => {
  it('reads state and process group, whatever the command name holds', () => {
    expect(parseProcStat('4242 (sleep) S 1 4240 4240 0 -1 4194304')).toEqual({ state: 'S', pgrp: 4240 });
    expect(parseProcStat('77 (a) b (c)) Z 1 70 70 0')).toEqual({ state: 'Z', pgrp: 70 });
  });
});
