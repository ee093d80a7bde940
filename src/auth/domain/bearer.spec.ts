import { describe, expect, it } from '@jest/globals';
import { bearerToken } from './bearer.js';

describe('bearerToken', () => {
  it('reads the key after the Bearer scheme, in any case (RFC 7235)', () => {
    expect(bearerToken('Bearer weft_abc')).toEqual({ token: 'weft_abc' });
    expect(bearerToken('bearer weft_abc')).toEqual({ token: 'weft_abc' });
    expect(bearerToken('BEARER   weft_abc  ')).toEqual({ token: 'weft_abc' });
  });

  it('says what is missing: no header, a scheme without a key (an empty shell variable), a key without its scheme', () => {
    expect(bearerToken(undefined)).toEqual({ problem: 'missing API key: send Authorization: Bearer <key>' });
    expect(bearerToken('  ')).toEqual({ problem: 'missing API key: send Authorization: Bearer <key>' });
    expect(bearerToken('Bearer')).toEqual({ problem: expect.stringMatching(/^missing API key: the Authorization header has no key after 'Bearer' \(is the variable meant to hold it empty\?\): send Authorization: Bearer <key>$/) });
    expect(bearerToken('Bearer   ')).toEqual({ problem: expect.stringContaining("no key after 'Bearer'") });
    expect(bearerToken('weft_abc')).toEqual({ problem: 'the Authorization header holds a key without its scheme: send Authorization: Bearer <key>' });
    expect(bearerToken('s3cr3t')).toEqual({ problem: 'the Authorization header holds a key without its scheme: send Authorization: Bearer <key>' });
  });

  it('names another scheme, never echoing more than its first characters', () => {
    expect(bearerToken('Basic dXNlcjpwYXNz')).toEqual({ problem: "the Authorization header uses the scheme 'Basic', which Weft does not take: send Authorization: Bearer <key>" });
    expect(bearerToken(`${'x'.repeat(100)} y`)).toEqual({ problem: expect.stringContaining(`'${'x'.repeat(20)}'`) });
  });
});
