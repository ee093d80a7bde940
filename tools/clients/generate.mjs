#!/usr/bin/env node
// Writes clients/openapi.json from the code and regenerates the clients from it, offline (DESIGN §11):
//   TypeScript: @hey-api/openapi-ts      → clients/typescript/src/generated/
//   Python:     openapi-generator 4.3.1  → clients/python/weft_client/, clients/python/docs/
//   Go:         openapi-generator 4.3.1  → clients/go/weftapi/
// and lints the document (Redocly). It also writes the DAG document's JSON Schema (the one served at
// /api/v1/schemas/dag.json) to clients/dag.schema.json, with the TypeScript DAG builder's types generated from it
// (json-schema-to-typescript → clients/typescript/src/dag/generated/) and a copy in the Python DAG builder. Everything else under clients/ is written by hand.
// `--check` (CI) generates into a temporary folder and fails when anything differs from what is committed.
// Run through `npm run clients:generate` / `npm run clients:check`, which build dist/ first.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simplifyForOpenApiGenerator } from './simplify-spec.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const check = process.argv.includes('--check');
const jar = join(here, 'node_modules/openapi-generator-jar/bin/openapi-generator.jar');
if (!existsSync(jar)) fail('tools/clients is not installed: run `npm ci --prefix tools/clients`');

/** What this script owns under clients/ (relative paths); --check compares exactly these. */
const GENERATED = [
  'openapi.json',
  'typescript/src/generated',
  'python/weft_client',
  'python/docs',
  'go/weftapi',
  'dag.schema.json',
  'typescript/src/dag/generated',
  'python/weft_dag/dag.schema.json',
];
/** Untracked by-products of using the clients in place (clients/.gitignore), never compared. */
const IGNORED = ['-x', '__pycache__', '-x', '*.pyc'];

const work = mkdtempSync(join(tmpdir(), 'weft-clients-'));
const out = check ? join(work, 'clients') : join(root, 'clients');
try {
  const started = Date.now();
  mkdirSync(out, { recursive: true });
  execFileSync(process.execPath, [join(root, 'scripts/export-openapi.mjs'), '--out', join(out, 'openapi.json')], { stdio: 'ignore' });
  const json = readFileSync(join(out, 'openapi.json'), 'utf8');
  lint(join(out, 'openapi.json'));
  const simplified = join(work, 'openapi-generator.json');
  writeFileSync(simplified, `${JSON.stringify(simplifyForOpenApiGenerator(JSON.parse(json)), null, 2)}\n`);

  await typescript(join(out, 'openapi.json'), join(out, 'typescript/src/generated'));
  await dagSchema(out);
  python(simplified, join(out, 'python'));
  go(simplified, join(out, 'go/weftapi'));
  console.log(`clients generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (check) {
    const stale = GENERATED.filter((p) => !same(join(root, 'clients', p), join(out, p)));
    if (stale.length) {
      for (const p of stale) spawnSync('diff', ['-ruN', ...IGNORED, join(root, 'clients', p), join(out, p)], { stdio: 'inherit' });
      fail(`stale generated clients: ${stale.map((p) => `clients/${p}`).join(', ')}. Run \`npm run clients:generate\` and commit the result.`);
    }
    console.log('clients/ is up to date with the code');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function lint(file) {
  const redocly = join(here, 'node_modules/@redocly/cli/bin/cli.js');
  const res = spawnSync(process.execPath, [redocly, 'lint', file, '--config', join(here, 'redocly.yaml'), '--format', 'stylish'], {
    encoding: 'utf8',
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (res.status !== 0) {
    process.stdout.write(res.stdout);
    process.stderr.write(res.stderr);
    fail('the OpenAPI document has lint errors');
  }
  console.log('openapi.json: lint ok');
}

async function typescript(input, output) {
  const { createClient } = await import('@hey-api/openapi-ts');
  rmSync(output, { recursive: true, force: true });
  await createClient({
    input,
    output: { path: output, importFileExtension: '.js', clean: true },
    plugins: ['@hey-api/client-fetch', '@hey-api/typescript', { name: '@hey-api/sdk', operations: { strategy: 'flat' } }],
    logs: { level: 'silent' },
  });
}

/**
 * The DAG document's JSON Schema, as served, and what the DAG builders derive from it: TypeScript types (every task
 * type and field; a field added to the schema reaches the builder by regenerating) and the schema itself, which the
 * TypeScript builder validates against and the Python builder reads its field names from.
 */
async function dagSchema(out) {
  const { dagJsonSchema } = await import(join(root, 'dist/dags/domain/dag-document.schema.js'));
  const schema = dagJsonSchema();
  const json = `${JSON.stringify(schema, null, 2)}\n`;
  writeFileSync(join(out, 'dag.schema.json'), json);
  mkdirSync(join(out, 'python/weft_dag'), { recursive: true });
  writeFileSync(join(out, 'python/weft_dag/dag.schema.json'), json);

  const dir = join(out, 'typescript/src/dag/generated');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const banner = '// Generated by tools/clients/generate.mjs from clients/dag.schema.json (/api/v1/schemas/dag.json). Do not edit.\n';
  const { compile } = await import('json-schema-to-typescript');
  // Without its title and $id the root type takes the name given here; `unknownAny` keeps `any` out of the types.
  // The shell task's "command or argv" (a oneOf of two `required` lists) would become an intersection with two
  // index signatures; the types keep both optional and validation (local and the service's) says which is missing.
  const untitled = structuredClone(schema);
  delete untitled.title;
  delete untitled.$id;
  delete untitled.$defs.ShellTask.oneOf;
  const types = await compile(untitled, 'DagDocument', { bannerComment: '', additionalProperties: false, unknownAny: true, strictIndexSignatures: true, format: true });
  writeFileSync(join(dir, 'dag-document.gen.ts'), `${banner}${types}`);
  writeFileSync(
    join(dir, 'dag-schema.gen.ts'),
    `${banner}/** The JSON Schema (draft 2020-12) of the DAG document as authors write it. */\nexport const dagJsonSchema: { readonly [keyword: string]: unknown } = ${JSON.stringify(schema, null, 2)};\n`,
  );
}

/** openapi-generator 4.3.1 into a scratch folder; returns it. Java 17 runs the 4.3.1 JAR. */
function openapiGenerator(generator, spec, args) {
  const dir = mkdtempSync(join(work, `${generator}-`));
  execFileSync('java', ['-jar', jar, 'generate', '-g', generator, '-i', spec, '-o', dir, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

function python(spec, output) {
  const dir = openapiGenerator('python', spec, [
    '--package-name', 'weft_client',
    '--additional-properties', 'packageVersion=0.1.0,projectName=weft-client,packageUrl=https://weft.dev',
  ]);
  for (const part of ['weft_client', 'docs']) {
    rmSync(join(output, part), { recursive: true, force: true });
    cpSync(join(dir, part), join(output, part), { recursive: true });
  }
}

function go(spec, output) {
  // go-experimental (the 7.x `go` generator's ancestor): builder-style requests, nullable types, no extra modules
  // but golang.org/x/oauth2, whose one use (OAuth2 token sources, which Weft does not offer) is cut below.
  const dir = openapiGenerator('go-experimental', spec, ['--package-name', 'weftapi', '--type-mappings', 'object=interface{}', '--additional-properties', 'enumClassPrefix=true']);
  rmSync(output, { recursive: true, force: true });
  mkdirSync(output, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith('.go')) cpSync(join(dir, f), join(output, f));
  cpSync(join(dir, 'docs'), join(output, 'docs'), { recursive: true });
  const client = join(output, 'client.go');
  const src = readFileSync(client, 'utf8');
  const patched = src
    .replace('\n\t"golang.org/x/oauth2"\n', '\n')
    .replace(/\t\t\/\/ OAuth2 authentication\n[\s\S]*?latestToken\.SetAuthHeader\(localVarRequest\)\n\t\t}\n\n/, '');
  if (patched.includes('oauth2.')) fail('go: could not cut golang.org/x/oauth2 out of client.go (generator changed?)');
  writeFileSync(client, patched);
  execFileSync('gofmt', ['-w', output]);
}

/** Same files with the same bytes under both folders (or both absent). */
function same(a, b) {
  return spawnSync('diff', ['-rq', ...IGNORED, a, b], { stdio: 'ignore' }).status === 0;
}

function fail(message) {
  console.error(message);
  // process.exit() skips the finally above: remove the work folder here, or it stays in the temp directory.
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
}
