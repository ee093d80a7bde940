// Where the service under test was built (lib/build.mjs sets WEFT_BENCH_BUILD; without it, the repository
// itself, so a module can be used on its own against dist/).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const BUILD_DIR = process.env.WEFT_BENCH_BUILD || path.resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Imports a module of the built service, e.g. fromBuild('dist/bootstrap.js'). */
export const fromBuild = (rel) => import(pathToFileURL(path.join(BUILD_DIR, rel)).href);
export const buildPath = (rel) => path.join(BUILD_DIR, rel);
