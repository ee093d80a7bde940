import { LineCounter, parseDocument } from 'yaml';
import { MAX_DAG_DOCUMENT_BYTES } from './limits.js';

export type ParsedDagFile = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Reads the text of a DAG file into a plain value for validateDagDocument. `.json` is JSON; `.yaml`/`.yml` is one
 * YAML document (one DAG per file) in the YAML 1.2 core schema: no custom or language tags, no timestamps turned
 * into dates, at most 100 alias expansions, duplicate keys refused. Errors name the file and, when known, the line.
 */
export function parseDagFile(fileName: string, text: string): ParsedDagFile {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DAG_DOCUMENT_BYTES) {
    return fail(fileName, `file is ${bytes} bytes; the limit is ${MAX_DAG_DOCUMENT_BYTES} bytes (1 MiB)`);
  }
  const extension = /\.[^./\\]+$/.exec(fileName)?.[0].toLowerCase() ?? '';
  switch (extension) {
    case '.json':
      return parseJson(fileName, text);
    case '.yaml':
    case '.yml':
      return parseYaml(fileName, text);
    default:
      return fail(fileName, `unsupported file type '${extension}'; expected .json, .yaml or .yml`);
  }
}

function parseJson(fileName: string, text: string): ParsedDagFile {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const message = (err as Error).message;
    const position = /at position (\d+)/.exec(message);
    const where = position ? lineAndColumn(text, Number(position[1])) : undefined;
    return fail(fileName, `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, where);
  }
}

function parseYaml(fileName: string, text: string): ParsedDagFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    schema: 'core',
    customTags: [],
    resolveKnownTags: false,
    merge: false,
    uniqueKeys: true,
    prettyErrors: false,
  });
  // Warnings include unresolved tags such as !!python/object, which must not quietly become strings.
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const { line, col } = lines.linePos(problem.pos[0]);
    const message =
      problem.code === 'MULTIPLE_DOCS' ? 'a YAML DAG file must contain exactly one document' : problem.message;
    return fail(fileName, `invalid YAML: ${message}`, { line, column: col });
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (err) {
    return fail(fileName, `invalid YAML: ${(err as Error).message}`);
  }
}

type Where = { line: number; column: number };

function fail(fileName: string, message: string, where?: Where): ParsedDagFile {
  const location = where ? `:${where.line}:${where.column}` : '';
  return { ok: false, error: `${fileName}${location}: ${message}` };
}

function lineAndColumn(text: string, offset: number): Where {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
