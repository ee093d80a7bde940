import { describe, expect, it } from '@jest/globals';
import { createSecretBox, generateSecretsKey, parseSecretsKey } from '../../secrets/domain/secret-box.js';
import { resolveSecretRef } from '../../secrets/domain/secret-ref.js';
import { resolveCallback, type CallbackSecrets } from './resolve-callback.js';

const box = createSecretBox(parseSecretsKey(generateSecretsKey(), 'test'));
const secrets = (env: Record<string, string> = {}): CallbackSecrets => ({ decrypt: box.decrypt, resolveRef: (name) => resolveSecretRef(name, env) });
const url = 'https://x.example/hook';

describe(resolveCallback.name, () => {
  it('decrypts a stored secret', () => {
    expect(resolveCallback({ type: 'webhook', url, secret: box.encrypt('s3cret') }, secrets())).toEqual({ ok: true, callback: { type: 'webhook', url, secret: 's3cret' } });
  });

  it('takes a plaintext secret stored before encryption at rest as it is', () => {
    expect(resolveCallback({ type: 'webhook', url, secret: 'legacy' }, secrets())).toEqual({ ok: true, callback: { type: 'webhook', url, secret: 'legacy' } });
  });

  it('reads a secretRef from the environment, and says which variable is missing', () => {
    expect(resolveCallback({ type: 'webhook', url, secretRef: 'HOOK' }, secrets({ WEFT_SECRET_HOOK: 'from-env' }))).toEqual({
      ok: true,
      callback: { type: 'webhook', url, secret: 'from-env' },
    });
    expect(resolveCallback({ type: 'webhook', url, secretRef: 'HOOK' }, secrets())).toEqual({
      ok: false,
      error: 'secretRef HOOK: the environment variable WEFT_SECRET_HOOK is not set in this process',
    });
  });

  it('fails clearly on a secret encrypted under another key', () => {
    const other = createSecretBox(parseSecretsKey(generateSecretsKey(), 'test'));
    const result = resolveCallback({ type: 'webhook', url, secret: other.encrypt('s3cret') }, secrets());
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/^cannot decrypt the webhook secret: .*another secrets key.*WEFT_SECRETS_KEY/) });
  });

  it('reads a PagerDuty routingKeyRef from the environment', () => {
    const pd = { type: 'pagerduty' as const, routingKeyRef: 'PD', severity: 'error' as const };
    expect(resolveCallback(pd, secrets({ WEFT_SECRET_PD: 'rk' }))).toEqual({ ok: true, callback: { type: 'pagerduty', routingKey: 'rk', severity: 'error' } });
    expect(resolveCallback(pd, secrets())).toEqual({ ok: false, error: 'secretRef PD: the environment variable WEFT_SECRET_PD is not set in this process' });
  });

  it('passes unsigned webhooks and other channels through', () => {
    expect(resolveCallback({ type: 'webhook', url }, secrets())).toEqual({ ok: true, callback: { type: 'webhook', url } });
    const slack = { type: 'slack' as const, webhookUrl: url };
    expect(resolveCallback(slack, secrets())).toEqual({ ok: true, callback: slack });
  });
});
