import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { createSecretBox, type SecretBox } from './domain/secret-box.js';
import { resolveSecretRef } from './domain/secret-ref.js';
import { loadSecretsKey } from './secrets-key.js';

/**
 * Secrets kept in the database are encrypted with the secrets key (domain/secret-box.ts); `secretRef`s are read from
 * the environment. The key is loaded when the application initialises (not when it is merely constructed, so the
 * OpenAPI export creates no key file).
 */
@Injectable()
export class SecretsService implements OnModuleInit {
  private readonly logger = new Logger('secrets');
  private loaded: SecretBox | null = null;

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  async onModuleInit(): Promise<void> {
    const key = await loadSecretsKey(this.config.secretsKey, this.config.home);
    this.loaded = createSecretBox(key.key);
    if (key.source === 'generated') {
      this.logger.warn(
        `generated the secrets key in ${key.file} (key id ${this.loaded.keyId}); other replicas need the same key: set WEFT_SECRETS_KEY to its contents on each`,
      );
    } else {
      this.logger.log(`secrets key ${this.loaded.keyId} from ${key.source === 'env' ? 'WEFT_SECRETS_KEY' : key.file}`);
    }
    if (key.looseMode) this.logger.warn(`${key.file} can be read by other users than its owner: chmod 600 it`);
  }

  /** Identifies the key in stored values (`enc:v1:<key id>:…`); derived one-way from it. */
  get keyId(): string {
    return this.box().keyId;
  }

  encrypt(plaintext: string): string {
    return this.box().encrypt(plaintext);
  }

  /** Throws SecretDecryptionError; a value stored before encryption at rest (no `enc:v1:` prefix) comes back as it is. */
  decrypt(value: string): string {
    return this.box().decrypt(value);
  }

  fingerprint(plaintext: string): string {
    return this.box().fingerprint(plaintext);
  }

  /** `WEFT_SECRET_<name>` of this process's environment, read now (not cached). */
  resolveRef(name: string): ReturnType<typeof resolveSecretRef> {
    return resolveSecretRef(name, process.env);
  }

  private box(): SecretBox {
    if (!this.loaded) throw new Error('the secrets key is not loaded: SecretsService is used before the application initialised');
    return this.loaded;
  }
}
