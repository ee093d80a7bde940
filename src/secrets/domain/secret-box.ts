import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Encryption at rest of secrets kept in the database (webhook signing secrets): AES-256-GCM under a key that lives
 * outside it (WEFT_SECRETS_KEY or `<WEFT_HOME>/secrets.key`). A stored value reads
 * `enc:v1:<key id>:<base64 of iv (12 bytes) | tag (16 bytes) | ciphertext>`. The key id (8 hex characters, derived from
 * the key) lets a process with another key say so instead of reporting tampering.
 */
export const ENCRYPTED_PREFIX = 'enc:v1:';
export const SECRETS_KEY_BYTES = 32;
/** What WEFT_SECRETS_KEY and secrets.key hold: 32 bytes in standard base64 (`openssl rand -base64 32`). */
export const SECRETS_KEY_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ENCRYPTED_PATTERN = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9+/]+={0,2})$/;
/** Binds ciphertexts to this use, so that a value encrypted for something else one day cannot be passed off as one. */
const AAD = Buffer.from('weft secret v1');

/** A malformed key (WEFT_SECRETS_KEY or the key file). */
export class SecretsKeyError extends Error {}

/** A stored secret that cannot be decrypted: another key, altered, or not an encrypted value at all. */
export class SecretDecryptionError extends Error {}

export type SecretBox = {
  /** 8 hex characters identifying the key (not secret: derived one-way from it). */
  readonly keyId: string;
  /** A fresh random IV each call: the same plaintext encrypts differently every time. */
  encrypt(plaintext: string): string;
  /**
   * The plaintext of an encrypted value; a value without the `enc:v1:` prefix is returned as it is (rows written
   * before encryption at rest). Throws SecretDecryptionError.
   */
  decrypt(value: string): string;
  /**
   * A keyed, deterministic stand-in for a secret (HMAC-SHA256 under a key derived from the secrets key): equal
   * plaintexts give equal fingerprints, and without the key nobody can test guesses against it, unlike a plain hash.
   */
  fingerprint(plaintext: string): string;
};

export function isEncryptedSecret(value: string): boolean {
  return value.startsWith(ENCRYPTED_PREFIX);
}

/** Decodes a base64 secrets key; `source` names where it came from in the error. */
export function parseSecretsKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!SECRETS_KEY_PATTERN.test(trimmed)) {
    throw new SecretsKeyError(`${source}: must be ${SECRETS_KEY_BYTES} random bytes in base64 (44 characters), e.g. the output of \`openssl rand -base64 32\``);
  }
  return Buffer.from(trimmed, 'base64');
}

/** A new random key in the form parseSecretsKey reads. */
export function generateSecretsKey(): string {
  return randomBytes(SECRETS_KEY_BYTES).toString('base64');
}

/** Separate keys for encryption and fingerprints, so neither use weakens the other. */
function subkey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `weft secrets ${purpose}`, 32));
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== SECRETS_KEY_BYTES) throw new SecretsKeyError(`the secrets key must be ${SECRETS_KEY_BYTES} bytes, not ${key.length}`);
  const encryptionKey = subkey(key, 'encryption v1');
  const fingerprintKey = subkey(key, 'fingerprint v1');
  const keyId = createHash('sha256').update(subkey(key, 'key id v1')).digest('hex').slice(0, 8);

  return {
    keyId,
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(AAD);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${ENCRYPTED_PREFIX}${keyId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
    },
    decrypt(value) {
      if (!isEncryptedSecret(value)) return value;
      const match = ENCRYPTED_PATTERN.exec(value);
      if (!match) throw new SecretDecryptionError('the stored secret is not a well-formed encrypted value (enc:v1:<key id>:<base64>)');
      const [, valueKeyId, payload] = match as unknown as [string, string, string];
      if (valueKeyId !== keyId) {
        throw new SecretDecryptionError(
          `the stored secret was encrypted with another secrets key (key id ${valueKeyId}; this process has ${keyId}): ` +
            'every replica must use the same WEFT_SECRETS_KEY',
        );
      }
      const raw = Buffer.from(payload, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SecretDecryptionError('the stored secret is too short to be an encrypted value');
      const decipher = createDecipheriv('aes-256-gcm', encryptionKey, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretDecryptionError('the stored secret failed its integrity check: it was altered, or encrypted with another key');
      }
    },
    fingerprint(plaintext) {
      return `hmac-sha256:${createHmac('sha256', fingerprintKey).update(plaintext, 'utf8').digest('hex')}`;
    },
  };
}
