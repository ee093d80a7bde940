import { describe, expect, it } from '@jest/globals';
import { createSecretBox, generateSecretsKey, parseSecretsKey } from '../../secrets/domain/secret-box.js';
import type { DagDocument } from './dag-document.schema.js';
import { validateDagDocument } from './validate-dag.js';
import { hasPlaintextWebhookSecrets, mapWebhookSecrets, redactWebhookSecrets, sealWebhookSecrets } from './webhook-secrets.js';

const checks = { validateSchedule: () => null, validateTimezone: () => null };

function normalise(input: unknown): DagDocument {
  const result = validateDagDocument(input, checks);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.dag;
}

const doc = normalise({
  dagId: 'hooks',
  tasks: [{ taskId: 'a', type: 'noop' }],
  slaCallbacks: [
    { type: 'webhook', url: 'https://x.example/sla', secret: 'sla-secret' },
    { type: 'slack', webhookUrl: 'https://hooks.example/s' },
  ],
  onFailureCallbacks: [
    { type: 'webhook', url: 'https://x.example/fail', secretRef: 'FAIL_HOOK' },
    { type: 'webhook', url: 'https://x.example/unsigned' },
    { type: 'webhook', url: 'https://x.example/fail2', secret: 'fail-secret' },
  ],
});

describe('webhook secrets', () => {
  const box = createSecretBox(parseSecretsKey(generateSecretsKey(), 'test'));

  it('seals every plaintext secret and leaves the rest of the document as it was', () => {
    const sealed = sealWebhookSecrets(doc, box.encrypt);
    expect(JSON.stringify(sealed)).not.toMatch(/sla-secret|fail-secret/);
    expect(hasPlaintextWebhookSecrets(doc)).toBe(true);
    expect(hasPlaintextWebhookSecrets(sealed)).toBe(false);
    expect(mapWebhookSecrets(sealed, box.decrypt)).toEqual(doc);
    expect(sealed.onFailureCallbacks[0]).toEqual({ type: 'webhook', url: 'https://x.example/fail', secretRef: 'FAIL_HOOK' });
    expect(sealed.onFailureCallbacks[1]).toEqual({ type: 'webhook', url: 'https://x.example/unsigned' });
    expect(sealed.slaCallbacks[1]).toBe(doc.slaCallbacks[1]);
    expect(sealed.tasks).toBe(doc.tasks);
    // Sealing twice does not encrypt the ciphertext.
    expect(sealWebhookSecrets(sealed, box.encrypt)).toEqual(sealed);
  });

  it('redacts secrets as *** in both lists, keeping secretRef names', () => {
    const redacted = redactWebhookSecrets(sealWebhookSecrets(doc, box.encrypt));
    expect(redacted.slaCallbacks[0]).toEqual({ type: 'webhook', url: 'https://x.example/sla', secret: '***' });
    expect(redacted.onFailureCallbacks.map((cb) => ('secret' in cb ? cb.secret : cb.type === 'webhook' ? cb.secretRef : null))).toEqual([
      'FAIL_HOOK',
      undefined,
      '***',
    ]);
  });

  it('a document without webhook secrets has nothing to seal', () => {
    const plain = normalise({ dagId: 'plain', tasks: [{ taskId: 'a', type: 'noop' }] });
    expect(hasPlaintextWebhookSecrets(plain)).toBe(false);
    expect(sealWebhookSecrets(plain, () => 'never')).toEqual(plain);
  });
});

describe('webhook secret validation', () => {
  const withWebhook = (cb: Record<string, unknown>) =>
    validateDagDocument({ dagId: 'v', tasks: [{ taskId: 'a', type: 'noop' }], onFailureCallbacks: [{ type: 'webhook', url: 'https://x.example/h', ...cb }] }, checks);

  it.each([
    [{ secret: 's', secretRef: 'S' }, 'onFailureCallbacks[0].secretRef', 'give either secret or secretRef, not both'],
    [{ secret: '***' }, 'onFailureCallbacks[0].secret', '"***" is the placeholder answers show for a secret'],
    [{ secret: 'enc:v1:0011aabb:AAAA' }, 'onFailureCallbacks[0].secret', "values starting with \"enc:v1:\" are Weft's encrypted form"],
    [{ secret: '' }, 'onFailureCallbacks[0].secret', ''],
    [{ secretRef: 'lower_case' }, 'onFailureCallbacks[0].secretRef', 'must be 1-200 characters of A-Z, 0-9 and "_"'],
    [{ secretRef: 'A-B' }, 'onFailureCallbacks[0].secretRef', 'must be 1-200 characters of A-Z, 0-9 and "_"'],
  ])('refuses %p', (cb, path, message) => {
    const result = withWebhook(cb);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it('accepts a secret, a secretRef, or neither (an unsigned webhook)', () => {
    for (const cb of [{ secret: 's3cret' }, { secretRef: 'PAGER_HOOK_2' }, {}]) expect(withWebhook(cb).ok).toBe(true);
  });
});
