/** weft-cli dags validate | deploy | list | pause | unpause */
import { createTwoFilesPatch } from 'diff';
import { unwrap, WeftApiError } from '../connection.js';
import { previewDocument } from '../dag/deploy.js';
import type { DagDocument } from '../dag/generated/dag-document.gen.js';
import { validateDagDocument } from '../dag/validate.js';
import { getDag, listDags, patchDag, upsertDag } from '../generated/sdk.gen.js';
import type { Dag, DagDocument as ApiDagDocument, RegistrationPreview } from '../generated/types.gen.js';
import { CliFailure, table, type Context } from './context.js';
import { loadDags, type LoadedDag, type LoadProblem } from './load-dags.js';

type Checked = { file: string; dagId: string | null; problems: { path: string; message: string }[]; preview?: RegistrationPreview };

/**
 * Each file's document checked by the service (POST /api/v1/dags/validate: the same validation as registering,
 * plus what registering would do), or with --offline by the JSON Schema alone. Every problem of every file is kept.
 */
async function check(ctx: Context, loaded: LoadedDag[], offline: boolean): Promise<Checked[]> {
  const out: Checked[] = [];
  for (const { file, dagId, document } of loaded) {
    if (offline) {
      out.push({ file, dagId, problems: validateDagDocument(document) });
      continue;
    }
    try {
      const preview = await previewDocument(document as DagDocument, { client: ctx.client });
      out.push({ file, dagId, problems: [], preview });
    } catch (err) {
      if (!(err instanceof WeftApiError) || (err.status !== 400 && err.status !== 409 && err.status !== 413)) throw err;
      out.push({ file, dagId, problems: err.issues.length ? err.issues : [{ path: '', message: err.body?.message ?? err.message }] });
    }
  }
  return out;
}

function reportProblems(ctx: Context, loadProblems: LoadProblem[], checked: Checked[]): number {
  const lines = [
    ...loadProblems.map((p) => `${p.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`),
    ...checked.flatMap((c) => c.problems.map((p) => `${c.file}: ${c.dagId ?? '?'}: ${p.path ? `${p.path}: ` : ''}${p.message}`)),
  ];
  if (lines.length && !ctx.json) process.stderr.write(`${lines.join('\n')}\n`);
  return lines.length;
}

export async function validate(ctx: Context, paths: string[], opts: { offline?: boolean }): Promise<void> {
  const { dags, problems } = loadDags(paths);
  const checked = await check(ctx, dags, Boolean(opts.offline));
  const count = reportProblems(ctx, problems, checked);
  for (const c of checked) {
    if (!c.problems.length) ctx.say(`ok  ${c.dagId}  ${c.file}${c.preview ? `  (deploy would ${describe(c.preview)})` : ''}`);
    if (c.preview) sayWarnings(ctx, c.preview.warnings);
  }
  ctx.result({
    valid: count === 0,
    files: [
      ...problems.map((p) => ({ file: p.file, dagId: null, valid: false, problems: [{ path: p.path, message: p.message }] })),
      ...checked.map((c) => ({ file: c.file, dagId: c.dagId, valid: !c.problems.length, problems: c.problems, ...(c.preview ? { action: c.preview.action } : {}) })),
    ],
  });
  if (count) throw new CliFailure(`${count} problem${count === 1 ? '' : 's'} found`);
}

/** What the service accepted but the author should know (a task in a pool that does not exist yet). */
function sayWarnings(ctx: Context, warnings: RegistrationPreview['warnings']): void {
  for (const w of warnings) ctx.say(`  warning: ${w.path}: ${w.message}`);
}

function describe(p: RegistrationPreview): string {
  return p.action === 'create' ? 'create it' : p.action === 'update' ? `store version ${p.version}` : `change nothing (version ${p.version})`;
}

/** A unified diff of the current document and the one deploying would store (both normalised by the service). */
function diff(dagId: string, current: ApiDagDocument | null, preview: RegistrationPreview): string {
  // The stored document comes back with its keys in the database's order: put them in the preview's order.
  const before = current ? `${JSON.stringify(orderLike(current, preview.document), null, 2)}\n` : '';
  const after = `${JSON.stringify(preview.document, null, 2)}\n`;
  const patch = createTwoFilesPatch(
    current ? `${dagId} (version ${preview.currentVersion})` : '/dev/null',
    `${dagId} (${preview.action === 'create' ? 'new' : `version ${preview.version}`})`,
    before,
    after,
    undefined,
    undefined,
    { context: 3 },
  );
  // The first line is a "====" separator: the file names below say it all.
  return patch.split('\n').slice(1).join('\n').trimEnd();
}

/** `value` with the keys of every object in the order of the same object in `template` (other keys after). */
function orderLike(value: unknown, template: unknown): unknown {
  if (Array.isArray(value)) return value.map((v, i) => orderLike(v, Array.isArray(template) ? template[i] : undefined));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const shape = template !== null && typeof template === 'object' && !Array.isArray(template) ? (template as Record<string, unknown>) : {};
  const keys = [...Object.keys(shape).filter((k) => k in source), ...Object.keys(source).filter((k) => !(k in shape))];
  return Object.fromEntries(keys.map((k) => [k, orderLike(source[k], shape[k])]));
}

export async function deploy(ctx: Context, paths: string[], opts: { dryRun?: boolean; diff?: boolean }): Promise<void> {
  const { dags, problems } = loadDags(paths);
  const checked = await check(ctx, dags, false);
  const count = reportProblems(ctx, problems, checked);
  if (count) {
    ctx.result({ deployed: false, problems: count, files: checked.map((c) => ({ file: c.file, dagId: c.dagId, problems: c.problems })) });
    throw new CliFailure(`${count} problem${count === 1 ? '' : 's'} found; nothing was deployed`);
  }
  const results = [];
  for (const [i, c] of checked.entries()) {
    const preview = c.preview!;
    const current = preview.action === 'create' ? null : (await unwrap(getDag({ client: ctx.client, path: { dagId: preview.dagId } }))).document;
    const patch = preview.action === 'unchanged' ? '' : diff(preview.dagId, current, preview);
    ctx.say(`${opts.dryRun ? 'would ' : ''}${preview.action === 'create' ? 'create' : preview.action === 'update' ? 'update' : 'leave unchanged'} ${preview.dagId} (${c.file})`);
    sayWarnings(ctx, preview.warnings);
    if (patch && opts.diff !== false) ctx.say(patch);
    let status: string = preview.action;
    let version = preview.version;
    if (!opts.dryRun) {
      const registered = await unwrap(upsertDag({ client: ctx.client, body: dags[i]!.document as ApiDagDocument }));
      status = registered.created ? 'created' : registered.changed ? 'updated' : 'unchanged';
      version = registered.version;
      ctx.say(`  ${status}: ${preview.dagId} version ${version}`);
    }
    results.push({
      file: c.file,
      dagId: preview.dagId,
      action: preview.action,
      ...(opts.dryRun ? {} : { status }),
      currentVersion: preview.currentVersion,
      version,
      diff: patch,
      warnings: preview.warnings,
    });
  }
  ctx.result({ dryRun: Boolean(opts.dryRun), dags: results });
}

export async function list(ctx: Context, opts: { paused?: boolean; prefix?: string; tag?: string }): Promise<void> {
  const items: Dag[] = [];
  for (let offset = 0; ; ) {
    const query = {
      limit: 500,
      offset,
      ...(opts.paused !== undefined ? { paused: String(opts.paused) as 'true' | 'false' } : {}),
      ...(opts.prefix ? { dagIdPrefix: opts.prefix } : {}),
      ...(opts.tag ? { tag: opts.tag } : {}),
    };
    const page = await unwrap(listDags({ client: ctx.client, query }));
    items.push(...page.items);
    offset += page.items.length;
    if (!page.items.length || offset >= page.totalEntries) break;
  }
  ctx.result(items);
  if (ctx.json) return;
  if (!items.length) return ctx.say('no DAGs');
  const schedule = (s: unknown) => (s === null ? 'manual' : typeof s === 'string' ? s : 'datasets');
  ctx.say(
    table([
      ['DAG', 'PAUSED', 'SCHEDULE', 'VERSION', 'SOURCE', 'TAGS'],
      ...items.map((d) => [d.dagId, d.isPaused ? 'yes' : 'no', schedule(d.schedule), String(d.latestVersion), d.source, d.tags.join(',')]),
    ]),
  );
}

export async function setPaused(ctx: Context, dagIds: string[], isPaused: boolean): Promise<void> {
  const done: Dag[] = [];
  for (const dagId of dagIds) {
    done.push(await unwrap(patchDag({ client: ctx.client, path: { dagId }, body: { isPaused } })));
    ctx.say(`${isPaused ? 'paused' : 'unpaused'} ${dagId}`);
  }
  ctx.result(done);
}
