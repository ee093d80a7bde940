// The service under test, built once per bench run into a private snapshot, so every repetition measures the
// same code even if dist/ is rebuilt meanwhile (a work tree shared with others whose `npm test` rebuilds it).
//  - default: `npm run build` in the repository, then a copy of dist/ (with prisma/migrations, bin/ and
//    package.json beside it, node_modules linked) — i.e. the work tree as it is;
//  - --ref=REF: the committed tree of a git ref (say HEAD, or a commit to compare with), exported with
//    `git archive`, its Prisma client generated and compiled with the repository's own swc — the work tree and
//    dist/ are not touched.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function prepareBuild(root, { ref, build = true }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-bench-build-'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let info;
  if (ref) {
    const commit = git('rev-parse', '--short', `${ref}^{commit}`);
    console.error(`building ${ref} (${commit}) in ${dir}…`);
    const tar = spawnSync('sh', ['-c', `git -C "${root}" archive ${commit} src prisma bin package.json tsconfig.json .swcrc | tar -x -C "${dir}"`], { stdio: 'inherit' });
    if (tar.status !== 0) throw new Error(`git archive ${ref} failed`);
    const bin = (name) => path.join(root, 'node_modules', '.bin', name);
    const run = (cmd, args, env = {}) => {
      const r = spawnSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
      if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} failed in ${dir}`);
    };
    // Commits before issue 19 did not carry the generated Prisma client: generate it with tools/prisma's CLI.
    if (!fs.existsSync(path.join(dir, 'src/generated/prisma'))) {
      const generate = spawnSync(process.execPath, [path.join(root, 'tools/prisma/generate.mjs'), '--only-install'], { stdio: 'inherit' });
      if (generate.status !== 0) throw new Error('installing tools/prisma failed');
      run(process.execPath, [path.join(root, 'tools/prisma/node_modules/prisma/build/index.js'), 'generate', '--schema', 'prisma/schema.prisma'], {
        PRISMA_SCHEMA_ENGINE_BINARY: '/bin/false',
      });
    }
    run(bin('swc'), ['src', '-d', 'dist', '--strip-leading-paths', '--quiet']);
    info = { source: 'git', ref, commit };
  } else {
    if (build) {
      console.error('building the service (npm run build)…');
      const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
      if (b.status !== 0) throw new Error('npm run build failed');
    }
    for (const p of ['dist', 'prisma', 'bin', 'package.json']) fs.cpSync(path.join(root, p), path.join(dir, p), { recursive: true });
    // The console's static files (npm run build wrote them), served at `/` by the service: the console workload.
    if (fs.existsSync(path.join(root, 'console', 'dist'))) fs.cpSync(path.join(root, 'console', 'dist'), path.join(dir, 'console', 'dist'), { recursive: true });
    info = { source: 'work tree', commit: git('rev-parse', '--short', 'HEAD'), dirty_src: Boolean(git('status', '--porcelain', '--', 'src')) };
  }
  return { dir, info, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
