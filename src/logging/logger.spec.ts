import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { requestContext } from '../access/request-context.js';
import { createLogger, PinoNestLogger } from './logger.js';

function capture(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, done) => (out.push(String(chunk)), done()) });
  return { logger: createLogger('info', false, stream), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe(PinoNestLogger.name, () => {
  it('turns an object message into fields of the line and adds the request id of the current request', () => {
    const { logger, lines } = capture();
    const sut = new PinoNestLogger(logger);
    requestContext.run({ requestId: 'req-42' }, () => sut.warn({ msg: 'lease lost', dagId: 'd', runId: 'r', taskId: 't', tryNumber: 2 }, 'leases'));
    sut.log('plain', 'scheduler');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 40, msg: 'lease lost', context: 'leases', dagId: 'd', runId: 'r', taskId: 't', tryNumber: 2, requestId: 'req-42' }),
      expect.objectContaining({ level: 30, msg: 'plain', context: 'scheduler' }),
    ]);
    expect(lines()[1]).not.toHaveProperty('requestId');
  });

  it("puts Nest's module and route mapping lines at debug level, keeping its warnings and Weft's own lines", () => {
    const { logger, lines } = capture();
    const sut = new PinoNestLogger(logger);
    sut.log('Mapped {/api/v1/dags, GET} route', 'RouterExplorer');
    sut.log('AppModule dependencies initialized', 'InstanceLoader');
    sut.warn('something odd', 'RouterExplorer');
    sut.log('scheduler loop started', 'scheduler');
    expect(lines().map((l) => [l.level, l.msg])).toEqual([
      [40, 'something odd'],
      [30, 'scheduler loop started'],
    ]);
  });
});
