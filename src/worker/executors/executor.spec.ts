import { describe, expect, it } from '@jest/globals';
import { cancelledResult, withinXcomLimit, type CancelReason } from './executor.js';

function abortedWith(reason: unknown): AbortSignal {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
}

describe(cancelledResult.name, () => {
  it.each<[CancelReason, boolean]>([
    ['cancel_requested', false],
    ['lease_lost', true],
    ['lease_expired', true],
    ['shutdown', true],
    ['execution_timeout', true],
  ])('names %s, retryable %p', (reason, retryable) => {
    expect(cancelledResult(abortedWith(reason))).toEqual({ status: 'failed', error: `cancelled: ${reason}`, retryable });
  });

  it('treats AbortSignal.timeout as an execution timeout', () => {
    expect(cancelledResult(abortedWith(new DOMException('timed out', 'TimeoutError')))).toEqual({
      status: 'failed',
      error: 'cancelled: execution_timeout',
      retryable: true,
    });
  });

  it('names other reasons, retryable', () => {
    expect(cancelledResult(abortedWith(new Error('worker restarting')))).toEqual({ status: 'failed', error: 'cancelled: worker restarting', retryable: true });
    expect(cancelledResult(abortedWith(undefined)).error).toBe('cancelled: This operation was aborted');
  });
});

describe(withinXcomLimit.name, () => {
  it('measures the XCom map as UTF-8 JSON', () => {
    const xcom = { return_value: 'é' };
    const size = Buffer.byteLength(JSON.stringify(xcom));
    expect(withinXcomLimit(xcom, { maxXcomBytes: size, maxLogLineBytes: 1 }, 'it')).toEqual({ status: 'success', xcom });
    expect(withinXcomLimit(xcom, { maxXcomBytes: size - 1, maxLogLineBytes: 1 }, 'it')).toEqual({
      status: 'failed',
      error: `it is ${size} bytes as XCom, over the limit of ${size - 1} bytes`,
      retryable: false,
    });
  });
});
