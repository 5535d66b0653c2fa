import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AuditLog, exportLines, generateSigningKey, parseWitnessKey, planExport, verifierKeyOf } from '@custos/audit/application';
import { createPgDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { hired } from '@custos/audit/application/testing';
import { runAuditVerify } from './audit-verify.cli';

/** A witness from the C2SP tlog-cosignature text, in the test. */
function witness(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyId = createHash('sha256').update(`${name}\n`).update(Buffer.of(0x04)).update(raw).digest().subarray(0, 4);
  return {
    verifierKey: `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(0x04), raw]).toString('base64')}`,
    cosign(note: string, timestamp: number): string {
      const time = Buffer.alloc(8);
      time.writeBigUInt64BE(BigInt(timestamp));
      const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${timestamp}\n${note.slice(0, note.indexOf('\n\n') + 1)}`), privateKey);
      return `\u2014 ${name} ${Buffer.concat([keyId, time, signature]).toString('base64')}`;
    },
  };
}

/** `custos audit verify` on an export written by a real log: 0 verified, 1 with the failure named, 2 on bad usage. */
describe('custos audit verify', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let dir: string;
  let file: string;
  const { signer } = generateSigningKey('custos.test/audit');
  const [w1, w2] = [witness('w1.example.com'), witness('w2.example.com')];
  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runAuditVerify(args, { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
    return { code, out, err };
  };

  beforeAll(async () => {
    const database = await createTestDatabase('custos_audit_verify_cli');
    drop = database.drop;
    db = createPgDatabase(database.url);
    const log = new AuditLog(db, 'audit', { origin: 'custos.test/audit', signer, checkpointEvery: 3, witnesses: [w1, w2].map((w) => parseWitnessKey(w.verifierKey)) });
    await log.migrate();
    await log.tree.publishKey(log.lock);
    for (let i = 0; i < 3; i++) await log.recordBatch([hired(`a${i}`, '2026-01-01T00:00:00Z'), hired(`b${i}`, '2026-01-01T00:00:00Z')]);
    const latest = await log.tree.latestCheckpoint();
    await log.tree.addCosignature(latest.treeSize, w1.cosign(latest.note, Math.floor(Date.now() / 1000)), new Date());
    let text = '';
    for await (const line of exportLines(log, await planExport(log, 1, latest.treeSize))) text += line;
    dir = mkdtempSync(path.join(tmpdir(), 'custos-verify-'));
    file = path.join(dir, 'audit.ndjson');
    writeFileSync(file, text);
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.close();
    await drop();
  });

  it('verifies an export with the log key alone, and with a quorum of witnesses', async () => {
    const key = verifierKeyOf(signer);
    expect(await run(file, '--key', key)).toMatchObject({ code: 0, out: expect.stringMatching(/verified: entries 1\.\.4 \(4\)/) });
    expect(await run(file, '--key', key, '--witness', w1.verifierKey, '--witness', w2.verifierKey, '--quorum', '1')).toMatchObject({ code: 0, out: expect.stringContaining('cosigned by at least 1 of 2') });
    expect(await run(file, '--key', key, '--witness', w1.verifierKey, '--witness', w2.verifierKey)).toMatchObject({ code: 1, err: expect.stringContaining('fewer than 2') });
  });

  it('fails on one byte changed, naming the line', async () => {
    const changed = path.join(dir, 'changed.ndjson');
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"a1"');
    writeFileSync(changed, `${text.slice(0, at + 2)}${text[at + 2] === '1' ? '2' : '1'}${text.slice(at + 3)}`);
    expect(await run(changed, '--key', verifierKeyOf(signer))).toMatchObject({ code: 1, err: expect.stringMatching(/NOT VERIFIED: line \d+: entry \d+ is not included/) });
  });

  it('refuses bad usage with 2', async () => {
    for (const args of [[file], [file, '--key', verifierKeyOf(signer), '--quorum', '3', '--witness', w1.verifierKey], [file, '--key', verifierKeyOf(signer), '--quorum', 'x'], [file, '--key', verifierKeyOf(signer), '--witness', 'nope']]) {
      expect((await run(...args)).code).toBe(2);
    }
  });
});
