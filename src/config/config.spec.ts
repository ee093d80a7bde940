import { describe, expect, it } from '@jest/globals';
import { decideAddress } from '../outbound/domain/address-policy.js';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig({ HOME: '/home/x' });
    expect(c.port).toBe(8080);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.dagsFolderIntervalSec).toBe(30);
    expect(c.heapGrowingPercent).toBe(50);
  });

  it('takes 0 for the heap growing factor (V8 decides) and refuses one out of range', () => {
    expect(loadConfig({ WEFT_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(() => loadConfig({ WEFT_HEAP_GROWING_PERCENT: '500' })).toThrow(/WEFT_HEAP_GROWING_PERCENT/);
  });

  it('takes the worker id and queues as ids: never only dots (common/ids.ts)', () => {
    expect(() => loadConfig({ WEFT_WORKER_ID: '..' })).toThrow(/WEFT_WORKER_ID: must not be made only of dots/);
    expect(() => loadConfig({ WEFT_WORKER_QUEUES: 'default,..' })).toThrow(/WEFT_WORKER_QUEUES: a comma-separated list of queue names/);
    expect(() => loadConfig({ WEFT_KUBERNETES_QUEUES: '.' })).toThrow(/WEFT_KUBERNETES_QUEUES/);
    expect(() => loadConfig({ WEFT_WORKER_QUEUES: 'a,,b' })).toThrow(/WEFT_WORKER_QUEUES/);
    expect(() => loadConfig({ WEFT_WORKER_ID: 'w.1', WEFT_WORKER_QUEUES: 'default,gpu.v2' })).not.toThrow();
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });

  it('reads the outbound-address lists and names a bad entry with its variable', () => {
    const c = loadConfig({ WEFT_OUTBOUND_DENY: 'loopback, 10.0.0.0/8', WEFT_HTTP_TASK_ALLOW: 'metadata' });
    expect(decideAddress(c.outbound.callbacks, '127.0.0.1')).toMatchObject({ allowed: false, reason: expect.stringMatching(/denied by WEFT_OUTBOUND_DENY/) });
    expect(decideAddress(c.outbound.httpTasks, '127.0.0.1').allowed).toBe(true);
    expect(decideAddress(c.outbound.httpTasks, '169.254.169.254').allowed).toBe(true);
    expect(decideAddress(loadConfig({}).outbound.httpTasks, '169.254.169.254').allowed).toBe(false);
    expect(() => loadConfig({ WEFT_OUTBOUND_ALLOW: '10.0.0.0/40' })).toThrow(/WEFT_OUTBOUND_ALLOW: '10\.0\.0\.0\/40' is not a CIDR/);
  });
});
