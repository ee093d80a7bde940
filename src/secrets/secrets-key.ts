import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSecretsKey, parseSecretsKey, SecretsKeyError } from './domain/secret-box.js';

export const SECRETS_KEY_FILE = 'secrets.key';

export type LoadedSecretsKey = {
  key: Buffer;
  /** `env`: WEFT_SECRETS_KEY; `file`: an existing key file; `generated`: this call created the key file. */
  source: 'env' | 'file' | 'generated';
  file?: string;
  /** The key file can be read by others than its owner. */
  looseMode?: boolean;
};

/**
 * The secrets key: WEFT_SECRETS_KEY when set, otherwise `<home>/secrets.key`, created (mode 0600) on first start.
 * Creation is atomic (written aside, then hard-linked into place), so processes sharing a home that start at once
 * end up with the same key, and none ever reads a half-written file.
 */
export async function loadSecretsKey(configured: string | undefined, home: string): Promise<LoadedSecretsKey> {
  if (configured !== undefined) return { key: parseSecretsKey(configured, 'WEFT_SECRETS_KEY'), source: 'env' };
  const file = join(home, SECRETS_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return existing;

  const text = generateSecretsKey();
  const aside = join(home, `.${SECRETS_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(home, { recursive: true });
    await writeFile(aside, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new SecretsKeyError(`cannot create the secrets key file ${file} (${(err as Error).message}): make WEFT_HOME writable, or set WEFT_SECRETS_KEY`);
  }
  try {
    await chmod(aside, 0o600);
    await link(aside, file);
    return { key: parseSecretsKey(text, file), source: 'generated', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another process created it first: use theirs.
    const theirs = await readKeyFile(file);
    if (!theirs) throw err;
    return theirs;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

async function readKeyFile(file: string): Promise<LoadedSecretsKey | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new SecretsKeyError(`cannot read the secrets key file ${file} (${(err as Error).message}): fix WEFT_HOME, or set WEFT_SECRETS_KEY`);
  }
  const { mode } = await stat(file);
  return { key: parseSecretsKey(text, file), source: 'file', file, looseMode: (mode & 0o077) !== 0 };
}
