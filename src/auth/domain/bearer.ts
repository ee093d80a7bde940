/**
 * Reads an `Authorization` header: `Bearer <key>`, the scheme in any case (RFC 7235: `bearer <key>` is the same).
 * Answers the key, or why there is none, in words that say what to send instead: the usual ways to meet a 401 while
 * following the docs are an empty shell variable (`Bearer $WEFT_KEY` with `WEFT_KEY` unset sends just `Bearer`) and
 * the key sent without the scheme.
 */
export type BearerToken = { token: string } | { problem: string };

const HOW = 'send Authorization: Bearer <key>';

export function bearerToken(header: string | undefined): BearerToken {
  const value = header?.trim() ?? '';
  if (value === '') return { problem: `missing API key: ${HOW}` };
  const match = /^(\S+)(?:\s+(.*))?$/s.exec(value)!;
  const scheme = match[1]!;
  const rest = match[2]?.trim() ?? '';
  if (scheme.toLowerCase() === 'bearer') {
    if (rest === '') return { problem: `missing API key: the Authorization header has no key after 'Bearer' (is the variable meant to hold it empty?): ${HOW}` };
    return { token: rest };
  }
  // One word: most likely the key itself, which is not echoed back.
  if (rest === '') return { problem: `the Authorization header holds a key without its scheme: ${HOW}` };
  return { problem: `the Authorization header uses the scheme '${scheme.slice(0, 20)}', which Weft does not take: ${HOW}` };
}
