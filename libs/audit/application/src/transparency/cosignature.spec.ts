import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createPgDatabase, SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog } from '../read-models/audit-log/audit-log';
import { hired } from '../testing/builders';
import { CosignatureRefused, parseWitnessKey } from './cosignature';
import { exportLines, planExport, verifyExport } from './export';
import { generateSigningKey, openNote, parseVerifierKey, verifierKeyOf } from './signed-note';

/** A witness written from the C2SP tlog-cosignature text in this test, sharing no code with the log. */
function witness(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyId = createHash('sha256').update(`${name}\n`).update(Buffer.of(0x04)).update(raw).digest().subarray(0, 4);
  return {
    verifierKey: `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(0x04), raw]).toString('base64')}`,
    cosign(note: string, timestamp: number, key: KeyObject = privateKey): string {
      const body = note.slice(0, note.indexOf('\n\n') + 1);
      const time = Buffer.alloc(8);
      time.writeBigUInt64BE(BigInt(timestamp));
      const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`), key);
      return `\u2014 ${name} ${Buffer.concat([keyId, time, signature]).toString('base64')}`;
    },
  };
}

describe('witness cosignatures (C2SP tlog-cosignature v1)', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let log: AuditLog;
  const w1 = witness('witness.example.com/w1');
  const w2 = witness('witness.example.com/w2');
  const stranger = witness('stranger.example.com');
  const { signer } = generateSigningKey('custos.test/audit');
  const now = new Date();
  const seconds = Math.floor(now.getTime() / 1000);

  beforeAll(async () => {
    const database = await createTestDatabase('custos_audit_cosign');
    drop = database.drop;
    db = createPgDatabase(database.url);
    log = new AuditLog(db, 'audit', { origin: 'custos.test/audit', signer, checkpointEvery: 2, witnesses: [parseWitnessKey(w1.verifierKey), parseWitnessKey(w2.verifierKey)] });
    await log.migrate();
    await log.tree.publishKey(log.lock);
    await log.recordBatch([hired('a', '2026-01-01T00:00:00Z'), hired('b', '2026-01-01T00:00:00Z')]);
    await log.recordBatch([hired('c', '2026-01-01T00:00:00Z'), hired('d', '2026-01-01T00:00:00Z')]);
  });

  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('keeps a witness’s cosignature and serves it as one more signature line of the checkpoint', async () => {
    const checkpoint = await log.tree.latestCheckpoint();
    expect(checkpoint).toMatchObject({ treeSize: 4, cosignedBy: [] });
    const line = w1.cosign(checkpoint.note, seconds);
    expect(await log.tree.addCosignature(4, line, now)).toEqual({ treeSize: 4, witness: w1.verifierKey, timestamp: seconds, line, added: true });

    const cosigned = await log.tree.latestCheckpoint();
    expect(cosigned.cosignedBy).toEqual([w1.verifierKey]);
    expect(cosigned.note).toBe(`${checkpoint.note}${line}\n`);
    // The log's own signature still verifies, the witness's line is ignored by a verifier that does not know it.
    expect(openNote(cosigned.note, [parseVerifierKey(verifierKeyOf(signer))]).verifiedBy).toHaveLength(1);
  });

  it('keeps the first cosignature of a witness, and takes another witness’s beside it', async () => {
    const { note } = (await log.tree.checkpoints({ size: 4, limit: 1 })).items[0];
    expect(await log.tree.addCosignature(4, w1.cosign(note, seconds - 5), now)).toMatchObject({ added: false, timestamp: seconds });
    expect(await log.tree.addCosignature(4, w2.cosign(note, seconds), now)).toMatchObject({ added: true });
    expect((await log.tree.latestCheckpoint()).cosignedBy).toEqual([w1.verifierKey, w2.verifierKey]);
  });

  it('refuses a stranger, a signature on another checkpoint, a cosignature from the future, and a malformed line; nothing is kept', async () => {
    const [two, four] = (await log.tree.checkpoints({ limit: 10 })).items;
    const refused = async (size: number, line: string) => {
      try {
        await log.tree.addCosignature(size, line, now);
      } catch (error) {
        return (error as CosignatureRefused).code;
      }
      return 'accepted';
    };
    expect(await refused(2, stranger.cosign(two.note, seconds))).toBe('unknown-witness');
    expect(await refused(2, w1.cosign(four.note, seconds))).toBe('bad-signature');
    expect(await refused(2, w1.cosign(two.note, seconds + 3600))).toBe('future');
    expect(await refused(2, 'w1 AAAA')).toBe('malformed');
    expect(await refused(2, `\u2014 witness.example.com/w1 ${Buffer.alloc(10).toString('base64')}`)).toBe('malformed');
    await expect(log.tree.addCosignature(3, w1.cosign(two.note, seconds), now)).rejects.toThrow('no checkpoint of tree size 3');
    expect((await log.tree.checkpoints({ size: 2, limit: 1 })).items[0].cosignedBy).toEqual([]);
  });

  it('exports cosigned checkpoints that the offline verifier still checks with the log’s key alone', async () => {
    const lines: string[] = [];
    for await (const line of exportLines(log, await planExport(log, 1, 4))) lines.push(line);
    expect(lines.join('')).toContain('witness.example.com/w1');
    const exported = lines.join('').split('\n').filter(Boolean);
    const key = [parseVerifierKey(verifierKeyOf(signer))];
    expect(await verifyExport(exported, key)).toMatchObject({ ok: true, entries: 4 });
    const witnesses = [w1, w2, stranger].map((w) => parseWitnessKey(w.verifierKey));
    expect(await verifyExport(exported, key, { keys: witnesses, quorum: 2, now })).toMatchObject({ ok: true });
    expect(await verifyExport(exported, key, { keys: witnesses, quorum: 3, now })).toMatchObject({ ok: false, reason: expect.stringMatching(/cosigned by 2 of the given witnesses .* fewer than 3/) });
    expect(await verifyExport(exported, key, { keys: [parseWitnessKey(stranger.verifierKey)], quorum: 1, now })).toMatchObject({ ok: false, reason: expect.stringContaining('(none)') });
  });
});
