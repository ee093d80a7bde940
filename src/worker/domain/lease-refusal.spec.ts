import { describe, expect, it } from '@jest/globals';
import { keyPrefix, leaseRefusalMessage } from './lease-refusal.js';

const secret = 'weft_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd';
const base = { apiUrl: 'http://weft:8080', queues: ['default', 'gpu'], keySetting: 'WEFT_API_KEY' };

describe('leaseRefusalMessage', () => {
  it('names the key by its listed prefix, never the secret, and says what to set', () => {
    const msg = leaseRefusalMessage({ ...base, status: 401, apiKey: secret, serverMessage: 'unknown or revoked API key' });
    expect(msg).toBe(
      'the API at http://weft:8080 refused API key weft_AbCdEfG… (401: unknown or revoked API key): set WEFT_API_KEY to a valid key with role worker (an admin creates one: POST /api/v1/apiKeys); stopping',
    );
    expect(msg).not.toContain(secret.slice(12));
  });

  it('says that no key was sent', () => {
    expect(leaseRefusalMessage({ ...base, status: 401, apiKey: undefined, serverMessage: 'missing API key' })).toMatch(
      /^the API at http:\/\/weft:8080 needs an API key \(401: missing API key\): set WEFT_API_KEY to a key with role worker/,
    );
  });

  it('names the queues a 403 is about', () => {
    expect(leaseRefusalMessage({ ...base, status: 403, apiKey: secret, serverMessage: 'a viewer key may not call this endpoint' })).toBe(
      'the API at http://weft:8080 does not let API key weft_AbCdEfG… lease from queue(s) default, gpu (403: a viewer key may not call this endpoint): set WEFT_API_KEY to a key with role worker whose queues include them; stopping',
    );
  });

  it('keeps the 12 characters the API lists keys under', () => {
    expect(keyPrefix(secret)).toBe('weft_AbCdEfG');
  });
});
