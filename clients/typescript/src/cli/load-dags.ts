/**
 * DAG files named on the command line: each PATH a file, or a folder searched recursively for .json, .yaml and
 * .yml files. A YAML file holds one document and is read the way the service's DAG folder reads it (YAML 1.2 core
 * schema: no custom tags, no timestamps turned into dates, duplicate keys refused, at most 100 alias expansions).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';

export type LoadedDag = { file: string; document: unknown; dagId: string | null };
export type LoadProblem = { file: string; path: string; message: string };

const EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

function expand(path: string, problems: LoadProblem[]): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    problems.push({ file: path, path: '', message: 'no such file or folder' });
    return [];
  }
  if (stat.isFile()) return [path];
  const found: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isFile() && EXTENSIONS.has(extname(entry.name).toLowerCase()) && !relative(path, full).split('/').some((p) => p.startsWith('.'))) found.push(full);
  }
  return found.sort();
}

function parseFile(file: string): { value: unknown } | { error: string } {
  const text = readFileSync(file, 'utf8');
  const ext = extname(file).toLowerCase();
  if (ext === '.json') {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch (err) {
      return { error: `invalid JSON: ${(err as Error).message}` };
    }
  }
  if (ext !== '.yaml' && ext !== '.yml') return { error: `unsupported file type '${ext}'; expected .json, .yaml or .yml` };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, schema: 'core', customTags: [], resolveKnownTags: false, merge: false, uniqueKeys: true, prettyErrors: false });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const { line, col } = lines.linePos(problem.pos[0]);
    const message = problem.code === 'MULTIPLE_DOCS' ? 'a YAML DAG file must contain exactly one document' : problem.message;
    return { error: `invalid YAML at line ${line}, column ${col}: ${message}` };
  }
  try {
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch (err) {
    return { error: `invalid YAML: ${(err as Error).message}` };
  }
}

/** Every DAG document under `paths`, and every file that could not be read (a DAG id defined twice included). */
export function loadDags(paths: string[]): { dags: LoadedDag[]; problems: LoadProblem[] } {
  const problems: LoadProblem[] = [];
  const dags: LoadedDag[] = [];
  const files = [...new Set(paths.flatMap((p) => expand(p, problems)))];
  if (!files.length && !problems.length) problems.push({ file: paths.join(' '), path: '', message: 'no .json, .yaml or .yml files found' });
  const seen = new Map<string, string>();
  for (const file of files) {
    const parsed = parseFile(file);
    if ('error' in parsed) {
      problems.push({ file, path: '', message: parsed.error });
      continue;
    }
    const id = (parsed.value as { dagId?: unknown } | null)?.dagId;
    const dagId = typeof id === 'string' ? id : null;
    if (dagId !== null && seen.has(dagId)) {
      problems.push({ file, path: 'dagId', message: `DAG '${dagId}' is also defined by ${seen.get(dagId)}` });
      continue;
    }
    if (dagId !== null) seen.set(dagId, file);
    dags.push({ file, document: parsed.value, dagId });
  }
  return { dags, problems };
}
