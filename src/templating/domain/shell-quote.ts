/**
 * Quoting of values rendered into a shell command (a shell task's `command`), by where each value lands in the
 * command text. The template's own text is trusted (the DAG author wrote it); values (run conf, params, XCom,
 * dates) are data, so each is quoted for its place:
 * - unquoted word: left as it is when it holds only `A-Za-z0-9_@%+=:,./-` (so `echo {{ ds }}` renders as before),
 *   otherwise single-quoted (`'` written as `'\''`), as Python's shlex.quote does;
 * - inside '…': `'` becomes `'\''`;
 * - inside "…": `\`, `$`, `` ` `` and `"` get a backslash;
 * - inside $'…': `\` and `'` get a backslash;
 * - in a here-document: `\`, `$` and `` ` `` get a backslash (none when the delimiter is quoted); a value holding a
 *   line equal to the delimiter is refused;
 * - in a comment: a value without a newline stays as it is; one with a newline is refused;
 * - inside `…` or ${…}: only plain values (the charset above) are accepted.
 * A value that cannot be made safe where it stands is an error (the attempt fails), never run.
 */
export type ShellSpot = 'word' | 'single' | 'double' | 'ansi' | 'comment' | 'backtick' | 'brace' | { heredoc: string; quoted: boolean };

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export class ShellQuoteError extends Error {}

export function quoteFor(spot: ShellSpot, value: string): string {
  if (typeof spot === 'object') {
    if (value.split('\n').some((line) => line.replace(/^\t+/, '') === spot.heredoc)) {
      throw new ShellQuoteError(`a value holds the line '${spot.heredoc}', which would end the here-document it is rendered into`);
    }
    return spot.quoted ? value : value.replace(/[\\$`]/g, '\\$&');
  }
  switch (spot) {
    case 'word':
      return PLAIN.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
    case 'single':
      return value.replace(/'/g, `'\\''`);
    case 'double':
      return value.replace(/[\\$`"]/g, '\\$&');
    case 'ansi':
      return value.replace(/[\\']/g, '\\$&');
    case 'comment':
      if (value.includes('\n')) throw new ShellQuoteError('a value with a newline is rendered into a shell comment, where the newline would end the comment');
      return value;
    case 'backtick':
    case 'brace':
      if (!PLAIN.test(value)) {
        throw new ShellQuoteError(
          `a value is rendered inside ${spot === 'backtick' ? 'backquotes (`…`)' : '${…}'}, where it cannot be quoted; use $(…) or pass it in env`,
        );
      }
      return value;
  }
}

type Frame = { kind: 'word' | 'single' | 'double' | 'ansi' | 'backtick' | 'brace' | 'comment' | 'heredoc'; depth?: number; delimiter?: string; quoted?: boolean };

/**
 * Finds where each marker stands in `text` (a rendered command in which every value is still a marker) and
 * returns the spots in the order the markers appear. `marker` must be sticky (flag `y`). A small POSIX-shell lexer: quotes, escapes, $( ), ` `, ${ },
 * $' ', comments and here-documents; good enough to tell where a word is, which is all quoting needs.
 */
export function spotsOf(text: string, marker: RegExp): ShellSpot[] {
  const spots: ShellSpot[] = [];
  const stack: Frame[] = [{ kind: 'word', depth: 0 }];
  const pendingHeredocs: { delimiter: string; quoted: boolean; strip: boolean }[] = [];
  let wordStart = true;
  const top = () => stack[stack.length - 1]!;
  for (let i = 0; i < text.length; ) {
    marker.lastIndex = i;
    const m = marker.exec(text);
    if (m && m.index === i) {
      const f = top();
      spots.push(f.kind === 'heredoc' ? { heredoc: f.delimiter!, quoted: f.quoted! } : f.kind);
      i += m[0].length;
      wordStart = false;
      continue;
    }
    const c = text[i]!;
    const f = top();
    switch (f.kind) {
      case 'single':
        if (c === "'") stack.pop();
        i++;
        continue;
      case 'ansi':
        if (c === '\\') i++;
        else if (c === "'") stack.pop();
        i++;
        continue;
      case 'comment':
        if (c === '\n') {
          stack.pop();
          continue;
        }
        i++;
        continue;
      case 'heredoc': {
        // One line at a time: a line equal to the delimiter ends the here-document; the rest is data.
        const end = text.indexOf('\n', i);
        const stop = end < 0 ? text.length : end + 1;
        if (text.slice(i, end < 0 ? text.length : end).replace(/^\t+/, '') === f.delimiter) {
          stack.pop();
          i = end < 0 ? text.length : end;
          continue;
        }
        while (i < stop) {
          marker.lastIndex = i;
          const mm = marker.exec(text);
          if (mm) {
            spots.push({ heredoc: f.delimiter!, quoted: f.quoted! });
            i += mm[0].length;
          } else i++;
        }
        continue;
      }
      case 'double':
        if (c === '\\') i += 2;
        else if (c === '"') {
          stack.pop();
          i++;
        } else if (text.startsWith('$(', i) && !text.startsWith('$((', i)) {
          stack.push({ kind: 'word', depth: 0 });
          wordStart = true;
          i += 2;
        } else if (text.startsWith('${', i)) {
          stack.push({ kind: 'brace' });
          i += 2;
        } else if (c === '`') {
          stack.push({ kind: 'backtick' });
          i++;
        } else i++;
        continue;
      case 'backtick':
        if (c === '\\') i += 2;
        else {
          if (c === '`') stack.pop();
          i++;
        }
        continue;
      case 'brace':
        if (c === '}') stack.pop();
        i++;
        continue;
      case 'word':
        break;
    }
    // Unquoted text.
    if (c === '\\') {
      i += 2;
      wordStart = false;
    } else if (c === "'") {
      stack.push({ kind: 'single' });
      i++;
    } else if (c === '"') {
      stack.push({ kind: 'double' });
      i++;
    } else if (text.startsWith("$'", i)) {
      stack.push({ kind: 'ansi' });
      i += 2;
    } else if (text.startsWith('$(', i)) {
      stack.push({ kind: 'word', depth: 0 });
      wordStart = true;
      i += 2;
    } else if (text.startsWith('${', i)) {
      stack.push({ kind: 'brace' });
      i += 2;
    } else if (c === '`') {
      stack.push({ kind: 'backtick' });
      i++;
    } else if (c === '(') {
      f.depth = (f.depth ?? 0) + 1;
      wordStart = true;
      i++;
    } else if (c === ')') {
      if ((f.depth ?? 0) > 0) f.depth!--;
      else if (stack.length > 1) stack.pop();
      wordStart = true;
      i++;
    } else if (c === '#' && wordStart) {
      stack.push({ kind: 'comment' });
      i++;
    } else if (text.startsWith('<<', i) && !text.startsWith('<<<', i)) {
      const h = /^<<(-?)[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([A-Za-z0-9_.-]+))/.exec(text.slice(i));
      if (h) {
        pendingHeredocs.push({ delimiter: h[2] ?? h[3] ?? h[4]!, quoted: h[2] !== undefined || h[3] !== undefined || h[0].includes('\\'), strip: h[1] === '-' });
        i += h[0].length;
      } else i += 2;
      wordStart = false;
    } else if (c === '\n') {
      i++;
      wordStart = true;
      // Here-documents begin on the line after their operator, in the order they were named.
      for (const doc of pendingHeredocs.reverse()) stack.push({ kind: 'heredoc', delimiter: doc.delimiter, quoted: doc.quoted });
      pendingHeredocs.length = 0;
    } else {
      wordStart = /[\s;&|<>]/.test(c);
      i++;
    }
  }
  return spots;
}
