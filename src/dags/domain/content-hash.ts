import { createHash } from 'node:crypto';
import type { DagDocument } from './dag-document.schema.js';
import { mapWebhookSecrets } from './webhook-secrets.js';

/**
 * Identity of a DAG version: sha256 (hex) of the normalised document in canonical JSON. Key order and spelled-out
 * defaults do not change it, so registering the same content again creates no new version; task order does.
 * `dag` holds plaintext webhook secrets; each is hashed as its keyed fingerprint, so a changed secret is a new version
 * while the hash (which answers show) cannot be used to test guesses of the secret. Encrypting the secrets would not
 * do: each encryption of the same secret differs.
 */
export function dagContentHash(dag: DagDocument, fingerprintSecret: (plaintext: string) => string): string {
  return createHash('sha256').update(canonicalJson(mapWebhookSecrets(dag, fingerprintSecret))).digest('hex');
}

/** JSON with object keys sorted at every depth; array order kept; undefined members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) sorted[key] = sortKeys(member);
  }
  return sorted;
}
