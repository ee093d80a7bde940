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
  // How long the worker may take to end after its last file before Jest kills it and prints 'A worker process has
  // failed to exit gracefully' (Jest's default: 500 ms). A worker with nothing left open still needs time to end
  // after its 'exit' event (Node frees the environment and a heap of a few hundred MB): 200-250 ms measured on an
  // idle machine, past 500 ms on the shared 2 cores, so the warning came without any leak (logged in the worker: END
  // received, 'exit' 7 ms later, killed at 500 ms). A real leak (a timer, socket, pool or child left running) keeps the
  // worker alive indefinitely and is still reported, after this long.
  workerGracefulExitTimeout: 5_000,
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
