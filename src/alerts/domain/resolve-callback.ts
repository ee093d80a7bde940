import type { SlaCallback } from '../../dags/domain/dag-document.schema.js';
import type { AlertCallback } from './alert.js';

export type CallbackSecrets = {
  /** The plaintext of a stored secret; throws (with a message fit for the delivery's error) when it cannot. */
  decrypt(stored: string): string;
  resolveRef(name: string): { ok: true; secret: string } | { ok: false; error: string };
};

/**
 * The callback of a stored DAG version, made ready to send: a webhook's encrypted `secret` decrypted, or its
 * `secretRef` read from the environment, at delivery time. What fails here fails the delivery (not retried: a
 * missing variable or a wrong key does not fix itself), with the reason recorded on it.
 */
export function resolveCallback(callback: SlaCallback, secrets: CallbackSecrets): { ok: true; callback: AlertCallback } | { ok: false; error: string } {
  if (callback.type === 'pagerduty') {
    const ref = secrets.resolveRef(callback.routingKeyRef);
    if (!ref.ok) return ref;
    const { severity, url } = callback;
    return { ok: true, callback: { type: 'pagerduty', routingKey: ref.secret, ...(severity !== undefined ? { severity } : {}), ...(url ? { url } : {}) } };
  }
  if (callback.type !== 'webhook') return { ok: true, callback };
  const { url, secret, secretRef } = callback;
  if (secretRef !== undefined) {
    const ref = secrets.resolveRef(secretRef);
    return ref.ok ? { ok: true, callback: { type: 'webhook', url, secret: ref.secret } } : ref;
  }
  if (secret === undefined) return { ok: true, callback: { type: 'webhook', url } };
  try {
    return { ok: true, callback: { type: 'webhook', url, secret: secrets.decrypt(secret) } };
  } catch (err) {
    return { ok: false, error: `cannot decrypt the webhook secret: ${(err as Error).message}` };
  }
}
