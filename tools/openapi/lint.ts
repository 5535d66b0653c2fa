import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { custosOpenApi } from './document';

/**
 * `npm run lint:openapi`: writes the all-in-one's OpenAPI document (built without a store or a
 * bus, see document.ts) to a temp file and lints it with Redocly's `recommended` rules
 * (redocly.yaml). Redocly runs offline: no telemetry, no update check, no remote references.
 */
async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-openapi-'));
  try {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify((await custosOpenApi()).document, null, 2));
    const root = path.resolve(__dirname, '../..');
    const redocly = require.resolve('@redocly/cli/bin/cli.js', { paths: [root] });
    const result = spawnSync(process.execPath, [redocly, 'lint', '--config', path.join(root, 'redocly.yaml'), '--format', 'codeframe', file], {
      stdio: 'inherit',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true' },
    });
    return result.status ?? 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
