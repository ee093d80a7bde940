import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here (tools/prisma/generate.mjs); migrations are applied by `weft db migrate`
// because Prisma 7's native schema engine cannot be downloaded on every machine (docs/database.md).
// Paths are relative to this file.
export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
});
