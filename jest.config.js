// ESM + SWC: NestJS 12 packages are ESM-only, and Jest on Node 20 cannot require() them (DESIGN §12).
const swc = {
  swcrc: false,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  testEnvironment: 'node',
};

export default {
  // Jest's transform cache, kept with the dependencies rather than in the system temp folder.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // Integration and end-to-end tests boot the service and real processes; waits inside them have their own deadlines.
  testTimeout: 60_000,
  // On 2 cores Jest would run every file in its own single process, one after another, and whatever a file leaves reachable
  // (test/support/release-context-stores.ts removes the one found) adds up over ~160 files: a CI run reached V8's
  // heap limit. With a limit set, the files run in a worker process that is replaced once it holds more than this
  // after a file; the files still run one at a time on 2 cores.
  workerIdleMemoryLimit: '1GB',
  projects: [
    // Unit: no database, no subprocess, no server (the lint rule weft/feature-boundaries keeps it so); runs without
    // PostgreSQL (npm run test:unit).
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/test/**/*.int-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
      setupFilesAfterEnv: ['<rootDir>/test/support/release-context-stores.ts'],
    },
  ],
};
