// ESLint: TypeScript rules plus Nx module boundaries, which keep each context's domain pure
// (no NestJS, NATS, SQL or validation imports) and let contexts meet only through contracts.
const nx = require('@nx/eslint-plugin');
const tseslint = require('typescript-eslint');

const infrastructure = ['@nestjs/*', '@nats-io/*', 'pg', '@electric-sql/*', 'class-validator', 'class-transformer', 'pino', 'prom-client', 'jose', 'express'];

module.exports = [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', 'data/**', '.nx/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:domain', 'layer:contracts', 'layer:testing'], bannedExternalImports: infrastructure },
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:contracts'], bannedExternalImports: infrastructure },
            { sourceTag: 'layer:application', onlyDependOnLibsWithTags: ['layer:domain', 'layer:contracts', 'layer:infrastructure', 'layer:application', 'layer:testing'] },
            { sourceTag: 'layer:api', onlyDependOnLibsWithTags: ['layer:application', 'layer:domain', 'layer:contracts', 'layer:infrastructure', 'layer:testing'] },
            { sourceTag: 'layer:app', onlyDependOnLibsWithTags: ['layer:api', 'layer:infrastructure'] },
            { sourceTag: 'layer:infrastructure', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing'] },
            { sourceTag: 'layer:testing', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing'] },
            { sourceTag: 'layer:e2e', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing', 'layer:contracts'] },
            { sourceTag: 'context:identity', onlyDependOnLibsWithTags: ['context:identity', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:entitlement', onlyDependOnLibsWithTags: ['context:entitlement', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:request', onlyDependOnLibsWithTags: ['context:request', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:audit', onlyDependOnLibsWithTags: ['context:audit', 'scope:platform', 'layer:contracts'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
];
