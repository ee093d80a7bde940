import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { requestContext } from '../auth/request-context.js';
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
});
