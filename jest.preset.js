// Shared Jest settings: SWC transpiles TypeScript (with decorator metadata for NestJS),
// and the tsconfig path aliases resolve to library sources.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace(/[/.]/g, (c) => `\\${c}`)}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['**/*.spec.ts'],
  // Tests and hooks start real servers (PGlite's wasm, PostgreSQL databases, NATS): on a loaded
  // 2-core CI machine opening PGlite alone took 3.2-3.5 s, past Jest's 5 s default with the rest.
  testTimeout: 60_000,
};
