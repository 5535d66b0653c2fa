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
            // A domain imports only the domain kit (platform/domain, its spec helper included) and its own context's domain and contracts.
            { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:domain', 'layer:contracts'], bannedExternalImports: infrastructure },
            { allSourceTags: ['layer:domain', 'scope:platform'], onlyDependOnLibsWithTags: ['scope:platform'] },
            { allSourceTags: ['layer:domain', 'context:identity'], onlyDependOnLibsWithTags: ['context:identity', 'scope:platform'] },
            { allSourceTags: ['layer:domain', 'context:entitlement'], onlyDependOnLibsWithTags: ['context:entitlement', 'scope:platform'] },
            { allSourceTags: ['layer:domain', 'context:request'], onlyDependOnLibsWithTags: ['context:request', 'scope:platform'] },
            { allSourceTags: ['layer:domain', 'context:audit'], onlyDependOnLibsWithTags: ['context:audit', 'scope:platform'] },
            { allSourceTags: ['layer:domain', 'context:privileged'], onlyDependOnLibsWithTags: ['context:privileged', 'scope:platform'] },
            // Contracts build on the domain kit's event shape (platform/domain) and nothing else of the platform.
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:contracts', 'layer:domain'], bannedExternalImports: infrastructure },
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: ['layer:contracts', 'scope:platform'] },
            { sourceTag: 'layer:application', onlyDependOnLibsWithTags: ['layer:domain', 'layer:contracts', 'layer:infrastructure', 'layer:application', 'layer:testing'] },
            { sourceTag: 'layer:api', onlyDependOnLibsWithTags: ['layer:application', 'layer:domain', 'layer:contracts', 'layer:infrastructure', 'layer:testing'] },
            { sourceTag: 'layer:app', onlyDependOnLibsWithTags: ['layer:api', 'layer:infrastructure'] },
            { sourceTag: 'layer:infrastructure', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing', 'layer:domain'] },
            // The platform knows no context.
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:platform'] },
            { sourceTag: 'layer:testing', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing'] },
            { sourceTag: 'layer:e2e', onlyDependOnLibsWithTags: ['layer:infrastructure', 'layer:testing', 'layer:contracts'] },
            { sourceTag: 'context:identity', onlyDependOnLibsWithTags: ['context:identity', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:entitlement', onlyDependOnLibsWithTags: ['context:entitlement', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:request', onlyDependOnLibsWithTags: ['context:request', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:audit', onlyDependOnLibsWithTags: ['context:audit', 'scope:platform', 'layer:contracts'] },
            { sourceTag: 'context:privileged', onlyDependOnLibsWithTags: ['context:privileged', 'scope:platform', 'layer:contracts'] },
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
