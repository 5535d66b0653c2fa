import { createHash, createPublicKey, randomUUID, verify as edVerify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { createPgDatabase, CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog } from '../read-models/audit-log/audit-log';
import { exportLines, linesOf, planExport, verifyExport } from './export';
import { generateSigningKey, NoteSigner, parseVerifierKey, verifierKeyOf } from './signed-note';
import { AuditRangeError } from './transparency-log';

/* Independent of the server's code: RFC 6962 2.1 (MTH, PATH, PROOF) and C2SP signed-note checks, written here. */
const sha = (...parts: Array<Uint8Array | string>) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
const split = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
const mth = (d: Buffer[]): Buffer => (d.length === 0 ? sha() : d.length === 1 ? d[0] : sha(Buffer.of(1), mth(d.slice(0, split(d.length))), mth(d.slice(split(d.length)))));
const path = (m: number, d: Buffer[]): Buffer[] => {
  if (d.length <= 1) return [];
  const k = split(d.length);
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
};
const subproof = (m: number, d: Buffer[], b: boolean): Buffer[] => {
  if (m === d.length) return b ? [] : [mth(d)];
  const k = split(d.length);
  return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
};
/** The leaf of entry `seq`: SHA-256(0x00 || RFC 8785 JSON of {event, seq}). */
const leafOf = (seq: number, event: unknown) => sha(Buffer.of(0), canonicalize({ event, seq })!);
/** Checks a checkpoint note as a signed-note verifier would, knowing only the verifier key string. */
function checkNote(note: string, verifierKey: string): { origin: string; size: number; root: Buffer } {
  const [name, idHex] = verifierKey.split('+');
  const keyB64 = verifierKey.slice(name.length + idHex.length + 2);
  const key = Buffer.from(keyB64, 'base64');
  expect(key[0]).toBe(1);
  const pub = key.subarray(1);
  expect(sha(name, Buffer.of(0x0a, 0x01), pub).subarray(0, 4).toString('hex')).toBe(idHex);
  const [text, sigs] = [note.slice(0, note.indexOf('\n\n') + 1), note.slice(note.indexOf('\n\n') + 2)];
  const match = /^\u2014 (\S+) (\S+)\n$/u.exec(sigs)!;
  expect(match[1]).toBe(name);
  const blob = Buffer.from(match[2], 'base64');
  expect(blob.subarray(0, 4).toString('hex')).toBe(idHex);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  expect(edVerify(null, Buffer.from(text), publicKey, blob.subarray(4))).toBe(true);
  const [origin, size, root, end] = text.split('\n');
  expect(end).toBe('');
  return { origin, size: Number(size), root: Buffer.from(root, 'base64') };
}

function event(n: number): CustosEvent {
  const id = randomUUID();
  return {
    specversion: '1.0', id, source: '/custos/identity', type: 'custos.identity.IdentityHired.v1', subject: `identity-i${n}`, time: '2026-11-22T10:00:00.000Z',
    datacontenttype: 'application/json', data: { identityId: `i${n}`, n, note: 'é "quoted"' }, streamversion: 1, globalposition: String(n), correlationid: id, causationid: id,
    actor: 'hr:workday', name: 'IdentityHired',
  };
}

describe('the audit log as a transparency log (PostgreSQL)', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let signer: NoteSigner;
  let log: AuditLog;
  const origin = 'custos.test/audit';

  beforeEach(async () => {
    const database = await createTestDatabase('custos_audit_tlog');
    drop = database.drop;
    db = createPgDatabase(database.url);
    signer = generateSigningKey(origin).signer;
    log = new AuditLog(db, 'audit', { origin, signer, checkpointEvery: 4 });
    await log.migrate();
    await log.tree.publishKey(log.lock);
  });

  afterEach(async () => {
    await db.close();
    await drop();
  });

  async function record(count: number, batch = 3): Promise<CustosEvent[]> {
    const events = Array.from({ length: count }, (_, i) => event(i));
    for (let i = 0; i < count; i += batch) await log.recordBatch(events.slice(i, i + batch));
    return events;
  }

  it('signs a C2SP checkpoint every N entries, which an independent signed-note check accepts, with the RFC 6962 root', async () => {
    const events = await record(11);
    const leaves = events.map((e, i) => leafOf(i + 1, e));
    const { items } = await log.tree.checkpoints({ limit: 10 });
    // Batches of 3: the tree passes 4 entries beyond the last checkpoint at 6 and at 12 (cut to 11), at most.
    expect(items.map((c) => c.treeSize)).toEqual([6, 11]);
    const [{ verifierKey }] = await log.tree.keys();
    expect(verifierKey).toBe(verifierKeyOf(signer));
    for (const cp of items) {
      const text = checkNote(cp.note, verifierKey);
      expect(text).toEqual({ origin, size: cp.treeSize, root: mth(leaves.slice(0, cp.treeSize)) });
      expect(cp.rootHash).toBe(text.root.toString('base64'));
    }
    expect((await log.tree.latestCheckpoint()).treeSize).toBe(11);
    expect((await log.tree.checkpoints({ size: 6, limit: 10 })).items).toHaveLength(1);
    expect((await log.tree.checkpoints({ size: 7, limit: 10 })).items).toHaveLength(0);
    // The timer's checkpoint: only when the tree grew.
    await log.record(event(99));
    await log.tree.checkpointNow(log.lock);
    await log.tree.checkpointNow(log.lock);
    expect((await log.tree.checkpoints({ limit: 10 })).items.map((c) => c.treeSize)).toEqual([6, 11, 12]);
  });

  it('answers inclusion and consistency proofs from the stored nodes that the independent RFC 6962 implementation gives', async () => {
    const events = await record(13, 5);
    const leaves = events.map((e, i) => leafOf(i + 1, e));
    for (let n = 1; n <= 13; n++) {
      for (let seq = 1; seq <= n; seq++) {
        const proof = await log.tree.inclusion(seq, n);
        expect(proof).toEqual({
          seq, leafIndex: seq - 1, treeSize: n, leafHash: leaves[seq - 1].toString('base64'), rootHash: mth(leaves.slice(0, n)).toString('base64'),
          path: path(seq - 1, leaves.slice(0, n)).map((h) => h.toString('base64')),
        });
      }
      for (let m = 1; m <= n; m++) {
        const proof = await log.tree.consistency(m, n);
        expect(proof.proof).toEqual((m === n ? [] : subproof(m, leaves.slice(0, n), true)).map((h) => h.toString('base64')));
        expect(proof.fromRoot).toBe(mth(leaves.slice(0, m)).toString('base64'));
      }
    }
    await expect(log.tree.inclusion(6, 5)).rejects.toThrow(AuditRangeError);
    await expect(log.tree.inclusion(1, 14)).rejects.toThrow(AuditRangeError);
    await expect(log.tree.consistency(6, 5)).rejects.toThrow(AuditRangeError);
    await expect(log.tree.consistency(1, 14)).rejects.toThrow(AuditRangeError);
  });

  it('rotates keys: a new key signs from the size it is published at, both stay published, and every checkpoint verifies', async () => {
    await record(6);
    const next = generateSigningKey('custos.test/audit-2026').signer;
    const rotated = new AuditLog(db, 'audit', { origin, signer: next, checkpointEvery: 4 });
    expect(await rotated.tree.publishKey(rotated.lock)).toMatchObject({ fromSize: 6, added: true });
    // The old key no longer signs; the new one does.
    await log.recordBatch([event(50), event(51), event(52), event(53)]);
    expect((await log.tree.checkpoints({ limit: 10 })).items.map((c) => c.treeSize)).toEqual([6]);
    await rotated.recordBatch([event(60), event(61), event(62), event(63)]);
    const keys = await log.tree.keys();
    expect(keys.map((k) => [k.verifierKey, k.fromSize])).toEqual([[verifierKeyOf(signer), 0], [verifierKeyOf(next), 6]]);
    const { items } = await log.tree.checkpoints({ limit: 10 });
    expect(items.map((c) => [c.treeSize, c.signedBy])).toEqual([[6, verifierKeyOf(signer)], [14, verifierKeyOf(next)]]);
    checkNote(items[0].note, verifierKeyOf(signer));
    checkNote(items[1].note, verifierKeyOf(next));
    expect(await log.verify()).toMatchObject({ ok: true, events: 14, checkpoints: 2 });
  });

  describe('tampering directly in the database (a superuser with the triggers off)', () => {
    beforeEach(async () => {
      await record(10);
      expect(await log.verify(3)).toMatchObject({ ok: true, events: 10, checkpoints: 2 });
      await db.query('ALTER TABLE audit.log DISABLE TRIGGER USER');
    });

    it('names an UPDATEd entry', async () => {
      await db.query(`UPDATE audit.log SET event = jsonb_set(event, '{data,n}', '99') WHERE seq = 7`);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 7, problem: 'changed', events: 6 });
    });

    it('names a DELETEd entry, in the middle or the last', async () => {
      await db.query(`DELETE FROM audit.log WHERE seq = 4`);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 4, problem: 'deleted' });
      await db.query(`DELETE FROM audit.log WHERE seq >= 4`);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 4, problem: 'deleted' });
    });

    it('names an INSERTed entry', async () => {
      const forged = event(11);
      await db.query(`INSERT INTO audit.log (seq, event_id, name, type, source, subject, time, event) VALUES (11, $1, 'IdentityHired', $2, $3, $4, $5, $6)`, [forged.id, forged.type, forged.source, forged.subject, forged.time, JSON.stringify(forged)]);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 11, problem: 'inserted' });
    });

    it('names a rewritten tree or checkpoint', async () => {
      await db.query('ALTER TABLE audit.tree DISABLE TRIGGER USER');
      const { rows: [node] } = await db.query<{ hash: string }>(`SELECT encode(hash, 'hex') AS hash FROM audit.tree WHERE level = 2 AND idx = 1`);
      await db.query(`UPDATE audit.tree SET hash = sha256(hash) WHERE level = 2 AND idx = 1`);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 5, problem: 'tree' });
      await db.query(`UPDATE audit.tree SET hash = decode($1, 'hex') WHERE level = 2 AND idx = 1`, [node.hash]);
      expect(await log.verify(3)).toMatchObject({ ok: true });
      await db.query('ALTER TABLE audit.tree_checkpoints DISABLE TRIGGER USER');
      await db.query(`UPDATE audit.tree_checkpoints SET note = replace(note, 'custos.test/audit\n', 'custos.evil/audit\n') WHERE tree_size = 6`);
      expect(await log.verify(3)).toMatchObject({ ok: false, brokenAt: 6, problem: 'checkpoint' });
    });
  });

  it('exports entries with their checkpoints and proofs, which verify offline, and fail after any one byte is changed', async () => {
    await record(10);
    const plan = await planExport(log, 3, 8);
    expect(plan.sizes).toEqual([6, 10]);
    const lines: string[] = [];
    for await (const chunk of exportLines(log, plan, 4)) lines.push(chunk);
    const text = lines.join('');
    expect(text.split('\n')).toHaveLength(1 + 2 + 1 + 12 + 1);
    const keys = [parseVerifierKey(verifierKeyOf(signer))];
    const check = (t: string | Buffer) => verifyExport(linesOf((async function* () { yield Buffer.from(t); })()), keys);
    expect(await check(text)).toEqual({ ok: true, entries: 6, checkpoints: 2, from: 3, to: 8 });
    expect(await check(text.slice(0, -1))).toMatchObject({ ok: false });
    expect(await check(text.replace('"n":4,', '"n":7,'))).toMatchObject({ ok: false, line: 10, reason: 'entry 5 is not included in checkpoint 6: it was changed' });
    expect(await verifyExport(linesOf((async function* () { yield text; })()), [parseVerifierKey(verifierKeyOf(generateSigningKey(origin).signer))])).toMatchObject({ ok: false, line: 2 });
    // Every single byte changed (to the next one, or a space) breaks it.
    const bytes = Buffer.from(text);
    const passed: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const replacement of [bytes[i] ^ 1, 0x20]) {
        if (replacement === bytes[i]) continue;
        const changed = Buffer.from(bytes);
        changed[i] = replacement;
        if ((await check(changed)).ok) passed.push(i);
      }
    }
    expect(passed).toEqual([]);
    await expect(planExport(log, 5, 4)).rejects.toThrow(AuditRangeError);
    await expect(planExport(log, 1, 11)).rejects.toThrow(AuditRangeError);
  }, 120_000);
});
