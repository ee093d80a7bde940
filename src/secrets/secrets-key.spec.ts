import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecretsKey, SecretsKeyError } from './domain/secret-box.js';
import { loadSecretsKey } from './secrets-key.js';

describe('loadSecretsKey', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'weft-secrets-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('uses WEFT_SECRETS_KEY when set, and writes no file', async () => {
    const text = generateSecretsKey();
    const loaded = await loadSecretsKey(text, home);
    expect(loaded).toEqual({ key: Buffer.from(text, 'base64'), source: 'env' });
    expect(await readdir(home)).toEqual([]);
  });

  it('refuses a malformed WEFT_SECRETS_KEY, naming it', async () => {
    await expect(loadSecretsKey('not-a-key', home)).rejects.toThrow(/^WEFT_SECRETS_KEY: must be 32 random bytes in base64/);
  });

  it('creates <home>/secrets.key (0600) on first start and reads it afterwards', async () => {
    const dir = join(home, 'nested');
    const first = await loadSecretsKey(undefined, dir);
    expect(first.source).toBe('generated');
    expect(first.file).toBe(join(dir, 'secrets.key'));
    expect((await stat(first.file!)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(first.file!, 'utf8')).trim(), 'base64').equals(first.key)).toBe(true);
    expect(await readdir(dir)).toEqual(['secrets.key']);

    const again = await loadSecretsKey(undefined, dir);
    expect(again).toMatchObject({ source: 'file', looseMode: false });
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('processes starting at once agree on one key', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => loadSecretsKey(undefined, home)));
    expect(new Set(all.map((l) => l.key.toString('hex'))).size).toBe(1);
    expect(all.filter((l) => l.source === 'generated')).toHaveLength(1);
    expect(await readdir(home)).toEqual(['secrets.key']);
  });

  it('says what to do when the key file cannot be read or created', async () => {
    const blocker = join(home, 'not-a-directory');
    await writeFile(blocker, '');
    await expect(loadSecretsKey(undefined, join(blocker, 'home'))).rejects.toThrow(
      /^cannot read the secrets key file .*not-a-directory\/home\/secrets\.key \(ENOTDIR.*\): fix WEFT_HOME, or set WEFT_SECRETS_KEY$/,
    );
  });

  it('reports a key file others can read, and refuses a malformed one', async () => {
    const file = join(home, 'secrets.key');
    await writeFile(file, generateSecretsKey());
    await chmod(file, 0o644);
    expect(await loadSecretsKey(undefined, home)).toMatchObject({ source: 'file', looseMode: true });
    await writeFile(file, 'garbage');
    const failure = loadSecretsKey(undefined, home);
    await expect(failure).rejects.toThrow(SecretsKeyError);
    await expect(loadSecretsKey(undefined, home)).rejects.toThrow(`${file}: must be 32 random bytes`);
  });
});
