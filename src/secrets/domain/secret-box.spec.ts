import { describe, expect, it } from '@jest/globals';
import {
  createSecretBox,
  ENCRYPTED_PREFIX,
  generateSecretsKey,
  isEncryptedSecret,
  parseSecretsKey,
  SecretDecryptionError,
  SecretsKeyError,
} from './secret-box.js';

const key = () => parseSecretsKey(generateSecretsKey(), 'test');

describe('createSecretBox', () => {
  const sut = createSecretBox(key());

  it('round-trips, with a fresh ciphertext each time', () => {
    for (const plaintext of ['s3cret', '', 'ünïcødé ✓ and a long one '.repeat(50)]) {
      const a = sut.encrypt(plaintext);
      const b = sut.encrypt(plaintext);
      expect(a).not.toBe(b);
      expect(a.startsWith(`${ENCRYPTED_PREFIX}${sut.keyId}:`)).toBe(true);
      expect(a).not.toContain(plaintext || '\u0000');
      expect(sut.decrypt(a)).toBe(plaintext);
      expect(sut.decrypt(b)).toBe(plaintext);
    }
  });

  it('returns a value without the enc:v1: prefix as it is (stored before encryption at rest)', () => {
    expect(isEncryptedSecret('legacy')).toBe(false);
    expect(sut.decrypt('legacy')).toBe('legacy');
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const value = sut.encrypt('s3cret');
    const [prefix, payload] = [value.slice(0, value.lastIndexOf(':') + 1), value.slice(value.lastIndexOf(':') + 1)];
    const raw = Buffer.from(payload, 'base64');
    for (const at of [0, 12, raw.length - 1]) {
      const altered = Buffer.from(raw);
      altered[at]! ^= 1;
      expect(() => sut.decrypt(prefix + altered.toString('base64'))).toThrow(/failed its integrity check/);
    }
    expect(() => sut.decrypt(prefix + raw.subarray(0, 20).toString('base64'))).toThrow(/too short/);
    expect(() => sut.decrypt(`${ENCRYPTED_PREFIX}nothex:abc`)).toThrow(SecretDecryptionError);
  });

  it('says clearly when a value was encrypted under another key', () => {
    const other = createSecretBox(key());
    const value = other.encrypt('s3cret');
    expect(() => sut.decrypt(value)).toThrow(SecretDecryptionError);
    expect(() => sut.decrypt(value)).toThrow(`encrypted with another secrets key (key id ${other.keyId}; this process has ${sut.keyId})`);
    // The same key id with another key (forged prefix) still fails authentication.
    expect(() => sut.decrypt(value.replace(other.keyId, sut.keyId))).toThrow(/integrity check/);
  });

  it('fingerprints deterministically per key, without revealing the plaintext', () => {
    expect(sut.fingerprint('s3cret')).toBe(sut.fingerprint('s3cret'));
    expect(sut.fingerprint('s3cret')).not.toBe(sut.fingerprint('s3cret2'));
    expect(sut.fingerprint('s3cret')).not.toBe(createSecretBox(key()).fingerprint('s3cret'));
    expect(sut.fingerprint('s3cret')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it('the same key gives the same key id and reads the other instance’s values', () => {
    const k = key();
    expect(createSecretBox(k).keyId).toBe(createSecretBox(Buffer.from(k)).keyId);
    expect(createSecretBox(k).decrypt(createSecretBox(Buffer.from(k)).encrypt('x'))).toBe('x');
  });
});

describe('parseSecretsKey', () => {
  it('reads 32 bytes of base64, surrounding whitespace ignored', () => {
    const text = generateSecretsKey();
    expect(parseSecretsKey(`${text}\n`, 'file').equals(Buffer.from(text, 'base64'))).toBe(true);
  });

  it.each(['', 'short', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64'), `${'A'.repeat(43)}!`])('refuses %p, naming the source', (text) => {
    expect(() => parseSecretsKey(text, 'WEFT_SECRETS_KEY')).toThrow(SecretsKeyError);
    expect(() => parseSecretsKey(text, 'WEFT_SECRETS_KEY')).toThrow(/^WEFT_SECRETS_KEY: must be 32 random bytes in base64/);
  });

  it('createSecretBox refuses a key of another length', () => {
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow(SecretsKeyError);
  });
});
