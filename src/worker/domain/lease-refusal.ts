/**
 * What a worker says when the API refuses its key (401) or its right to lease (403): which key (its first 12
 * characters, the prefix the API lists it under, never the secret), what the API said and what to do. A worker stops
 * on such an answer instead of asking again forever: no retry makes a bad key good.
 */
export function leaseRefusalMessage(r: {
  status: 401 | 403;
  apiUrl: string;
  apiKey: string | undefined;
  queues: string[];
  /** The API's own `message`. */
  serverMessage: string;
  /** Where the key comes from, e.g. `WEFT_API_KEY`. */
  keySetting: string;
}): string {
  const key = r.apiKey ? `API key ${keyPrefix(r.apiKey)}…` : 'no API key';
  const said = `(${r.status}: ${r.serverMessage})`;
  if (r.status === 401) {
    return r.apiKey
      ? `the API at ${r.apiUrl} refused ${key} ${said}: set ${r.keySetting} to a valid key with role worker (an admin creates one: POST /api/v1/apiKeys); stopping`
      : `the API at ${r.apiUrl} needs an API key ${said}: set ${r.keySetting} to a key with role worker (an admin creates one: POST /api/v1/apiKeys); stopping`;
  }
  return `the API at ${r.apiUrl} does not let ${key} lease from queue(s) ${r.queues.join(', ')} ${said}: set ${r.keySetting} to a key with role worker whose queues include them; stopping`;
}

/** The part of a key the API stores and lists in the clear (`prefix`): `weft_` and 7 characters. */
export function keyPrefix(key: string): string {
  return key.slice(0, 12);
}
