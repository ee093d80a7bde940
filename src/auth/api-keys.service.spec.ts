import { describe, expect, it, jest } from '@jest/globals';
import { ApiKeysService } from './api-keys.service.js';
import type { ApiKeyRow } from './domain/api-key.js';

/** The service with stand-ins: a listener whose LISTEN fails while `down` says so (a database outage), and one key. */
function serviceWithListener(down: { value: boolean }) {
  const row = { id: 'k1', role: 'worker', lastUsedAt: new Date() } as unknown as ApiKeyRow;
  let listening = false;
  const listener = {
    isListening: () => listening,
    listen: async () => {
      if (down.value) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
      listening = true;
    },
  };
  const service = new ApiKeysService(
    undefined as never,
    { authEnabled: true, apiKeyCacheSec: 60 } as never,
    { now: () => new Date() } as never,
    { findActiveByHash: async () => row, touch: async () => undefined } as never,
    undefined as never,
    listener as never,
  );
  const logger = { warn: jest.fn(), log: jest.fn() };
  (service as unknown as { logger: typeof logger }).logger = logger;
  return { service, logger };
}

describe('ApiKeysService while it cannot listen for revocations', () => {
  it('logs the first failure and the recovery, not one warning per request', async () => {
    const down = { value: true };
    const { service, logger } = serviceWithListener(down);
    for (let i = 0; i < 5; i++) {
      await service.authenticate('weft_some_key');
      // Let the LISTEN attempt this request started settle before the next request.
      await new Promise((r) => setImmediate(r));
    }
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn.mock.calls[0]![0]).toMatch(/cannot listen for API-key revocations \(connect ECONNREFUSED/);
    down.value = false;
    await service.authenticate('weft_some_key');
    await new Promise((r) => setImmediate(r));
    expect(logger.log).toHaveBeenCalledWith('listening for API-key revocations again');
  });
});
