import { isEncryptedSecret } from '../../secrets/domain/secret-box.js';
import { REDACTED_SECRET, type DagDocument, type SlaCallback } from './dag-document.schema.js';

/**
 * The webhook signing secrets of a DAG document (`secret` of webhook entries in slaCallbacks and
 * onFailureCallbacks) in their three forms: plaintext as authors send it, encrypted as stored, `***` as answered.
 * A `secretRef` is a variable name, not a secret, and is kept in every form.
 */

/** The document with `fn` applied to every webhook `secret`; everything else is shared, not copied. */
export function mapWebhookSecrets(doc: DagDocument, fn: (secret: string) => string): DagDocument {
  const map = (callbacks: SlaCallback[]) => callbacks.map((cb) => (cb.type === 'webhook' && cb.secret !== undefined ? { ...cb, secret: fn(cb.secret) } : cb));
  return { ...doc, slaCallbacks: map(doc.slaCallbacks), onFailureCallbacks: map(doc.onFailureCallbacks) };
}

/** The form that is stored: each plaintext secret encrypted (already encrypted ones are left alone). */
export function sealWebhookSecrets(doc: DagDocument, encrypt: (plaintext: string) => string): DagDocument {
  return mapWebhookSecrets(doc, (secret) => (isEncryptedSecret(secret) ? secret : encrypt(secret)));
}

/** The form in answers: each secret as `***`. */
export function redactWebhookSecrets(doc: DagDocument): DagDocument {
  return mapWebhookSecrets(doc, () => REDACTED_SECRET);
}

/** Whether some webhook secret is stored in plaintext (rows written before encryption at rest). */
export function hasPlaintextWebhookSecrets(doc: DagDocument): boolean {
  return [...doc.slaCallbacks, ...doc.onFailureCallbacks].some((cb) => cb.type === 'webhook' && cb.secret !== undefined && !isEncryptedSecret(cb.secret));
}
