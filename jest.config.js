// Sources are TypeScript with ES module syntax; jest runs them as CommonJS through @swc/jest.
// middy and fauxqs ship ESM only, so they go through the transformer too.
const esmOnly = ['@middy', 'fauxqs'];
const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
  ],
};
const common = {
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper: { '^fauxqs$': '<rootDir>/node_modules/fauxqs/dist/app.js' },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testEnvironment: '<rootDir>/test/node-environment.js',
};

/** @type {import('jest').Config} */
module.exports = {
  // A local stack's first start checks the example models in worker processes (about 3 s, more on
  // a loaded machine): the e2e hooks that start one need more than jest's default 5 s. It is a
  // global option (a project's own is ignored).
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
