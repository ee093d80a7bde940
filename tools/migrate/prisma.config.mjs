// Prisma 6 config used only by migrate-tool.mjs (passed with --config): the wasm schema engine ('js') with a
// PGlite shadow database. The root prisma.config.ts (Prisma 7) is untouched and never read by this tool.
import { defineConfig } from 'prisma/config';
import { PgliteShadowFactory } from './pglite-adapter.mjs';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // The temporary Prisma 6 copy of prisma/schema.prisma (migrate-tool.mjs sets it). The CLI reads the generator's
  // engineType from here; without it, it assumes the native query engine and tries to download it.
  schema: process.env.WEFT_MIGRATE_SCHEMA,
  adapter: async () => new PgliteShadowFactory(),
});
