import { findUnsafeText, type UnsafeText } from './unsafe-text.js';

export class UnsafeJsonError extends Error {
  constructor(
    message: string,
    /** The field at fault, when there is one (NUL or a lone surrogate). */
    readonly detail?: UnsafeText,
  ) {
    super(message);
  }
}

/**
 * Parses a request body after checking what JSON.parse would let through but the rest of the service must not see:
 * - nesting deeper than `maxDepth` (deep documents exhaust recursive validators), checked in one pass over the text
 *   before parsing;
 * - a key given twice in one object (JSON.parse keeps the last silently, so two readers of the same body could
 *   disagree about it);
 * - NUL characters and lone UTF-16 surrogates in any string or key (see unsafe-text.ts), with the field named.
 */
export function parseSafeJson(text: string, maxDepth: number): unknown {
  checkStructure(text, maxDepth);
  const value: unknown = JSON.parse(text);
  const unsafe = findUnsafeText(value);
  if (unsafe) throw new UnsafeJsonError(unsafe.path ? `${unsafe.path}: ${unsafe.message}` : `the body ${unsafe.message}`, unsafe);
  return value;
}

/** Depth and duplicate keys, in one pass over the text; syntax errors are left to JSON.parse. */
function checkStructure(text: string, maxDepth: number): void {
  // Per open container: the keys seen so far (objects) or null (arrays).
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      if (expectKey) {
        const keys = stack[stack.length - 1];
        if (keys) {
          let key: string;
          try {
            key = JSON.parse(text.slice(start, i + 1)) as string;
          } catch {
            return; // malformed: JSON.parse reports it
          }
          if (keys.has(key)) throw new UnsafeJsonError(`duplicate key ${JSON.stringify(key)} in a JSON object: give each key once`);
          keys.add(key);
        }
        expectKey = false;
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) throw new UnsafeJsonError(`JSON nested deeper than ${maxDepth} levels`);
      stack.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
  }
}
