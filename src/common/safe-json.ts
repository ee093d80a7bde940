export class UnsafeJsonError extends Error {}

/**
 * Parses a request body after checking, in one pass over the text, what JSON.parse would let through but the rest
 * of the service must not see: nesting deeper than `maxDepth` (deep documents exhaust recursive validators) and
 * NUL characters, raw or escaped (PostgreSQL text cannot hold them).
 */
export function parseSafeJson(text: string, maxDepth: number): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) throw new UnsafeJsonError('NUL characters are not allowed');
    if (inString) {
      if (c === 0x5c /* \ */) {
        if (text.startsWith('u0000', i + 1)) throw new UnsafeJsonError('NUL characters (\\u0000) are not allowed');
        i++;
      } else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) throw new UnsafeJsonError(`JSON nested deeper than ${maxDepth} levels`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return JSON.parse(text);
}
