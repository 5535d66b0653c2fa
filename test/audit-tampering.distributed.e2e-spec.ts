import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { createPgDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { eventually } from '@custos/platform/testing';
import { startDistributed, type Deployment } from './support/deployment';

interface StoreVerdict {
  context: string;
  ok: boolean;
  events: number;
  pending?: number;
  problem?: string;
  seq?: number;
  eventId?: string;
  position?: string;
}

interface Verdict {
  ok: boolean;
  events: number;
  brokenAt?: number;
  problem?: string;
  stores: StoreVerdict[];
}

/**
 * Tampering in the database, with the protection switched off by a superuser, on the services as
 * separate processes over NATS and PostgreSQL: GET /audit/verify finds a change, a deletion or an
 * insertion on the identity context's event store (asked over rpc.identity.store-events) and on
 * the audit log itself, and names the position; undone, the log verifies again.
 */
describe('audit: tampering with the event store or the log is found by verify', () => {
  let deployment: Deployment;
  let db: SqlDatabase;
  let auditor: string;
  const run = randomUUID().slice(0, 8);

  const verify = async (): Promise<Verdict> => {
    const r = await deployment.client.call('GET', '/audit/verify', { token: auditor });
    expect(r.status).toBe(200);
    return r.body as Verdict;
  };
  const identityStore = (v: Verdict) => v.stores.find((s) => s.context === 'identity');
  /** Runs `sql` with the table's protective trigger switched off, as a superuser would. */
  const tampered = (table: string, trigger: string, ...sql: string[]) =>
    db.transaction(async (tx) => {
      await tx.query(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
      for (const statement of sql) await tx.query(statement);
      await tx.query(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
    });

  // A witness written from the C2SP tlog-cosignature text: Ed25519, key id over 0x04.
  const witness = (() => {
    const name = 'witness.test/w1';
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const keyId = createHash('sha256').update(`${name}\n`).update(Buffer.of(0x04)).update(raw).digest().subarray(0, 4);
    return {
      verifierKey: `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(0x04), raw]).toString('base64')}`,
      cosign(note: string): string {
        const timestamp = Math.floor(Date.now() / 1000);
        const time = Buffer.alloc(8);
        time.writeBigUInt64BE(BigInt(timestamp));
        const signature = sign(null, Buffer.from(`cosignature/v1\ntime ${timestamp}\n${note.slice(0, note.indexOf('\n\n') + 1)}`), privateKey);
        return `\u2014 ${name} ${Buffer.concat([keyId, time, signature]).toString('base64')}`;
      },
    };
  })();

  beforeAll(async () => {
    const key = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    deployment = await startDistributed('custos_audit_tamper', {
      audit: { CUSTOS_AUDIT_SIGNING_KEY: key, CUSTOS_AUDIT_KEY_NAME: 'custos.test/audit', CUSTOS_AUDIT_CHECKPOINT_ENTRIES: '2', CUSTOS_AUDIT_WITNESSES: witness.verifierKey },
    });
    db = createPgDatabase(deployment.env.DATABASE_URL!, { max: 2 });
    auditor = await deployment.client.token(`auditor-${run}`, ['custos:auditor']);
    const hr = await deployment.client.token(`hr-${run}`, ['custos:hr']);
    for (let i = 1; i <= 3; i++) {
      const r = await deployment.client.call('POST', '/hr/events', {
        token: hr,
        body: { eventId: `tamper-${run}-${i}`, system: 'workday', type: 'joiner', employee: { employeeId: `T${i}-${run}`, givenName: `T${i}`, familyName: 'Amper', email: `t${i}-${run}@example.com`, employmentType: 'employee' } },
      });
      expect(r.status).toBe(202);
    }
    await eventually(verify, {
      accept: (v) => v.ok && identityStore(v)?.events === 3 && v.stores.every((s) => s.pending === 0),
      what: 'the three joiners in the audit log, verified against the stores',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await deployment?.stop();
  });

  it('names an event changed in the identity store, and verifies again once it is put back', async () => {
    const { rows } = await db.query<{ data: unknown }>(`SELECT data FROM identity.events WHERE global_position = 2`);
    await tampered('identity.events', 'events_are_immutable', `UPDATE identity.events SET data = jsonb_set(data, '{identity,givenName}', '"Mallory"') WHERE global_position = 2`);
    const verdict = await verify();
    expect(verdict.ok).toBe(false);
    expect(identityStore(verdict)).toMatchObject({ ok: false, problem: 'changed', position: '2' });
    await tampered('identity.events', 'events_are_immutable', `UPDATE identity.events SET data = '${JSON.stringify(rows[0].data).replace(/'/g, "''")}' WHERE global_position = 2`);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('names an event deleted from the identity store, and one inserted between two the log holds', async () => {
    await db.query(`CREATE TABLE public.tamper_copy AS SELECT * FROM identity.events WHERE global_position = 3`);
    await tampered('identity.events', 'events_are_immutable', `DELETE FROM identity.events WHERE global_position = 3`);
    const deleted = identityStore(await verify());
    expect(deleted).toMatchObject({ ok: false, problem: 'not-in-store' });
    const { rows } = await db.query<{ seq: string }>(`SELECT seq FROM audit.log WHERE event_id = (SELECT event_id::text FROM public.tamper_copy)`);
    expect(deleted?.seq).toBe(Number(rows[0].seq));
    await db.query(`INSERT INTO identity.events SELECT * FROM public.tamper_copy`);
    expect(await verify()).toMatchObject({ ok: true });

    await db.query(`INSERT INTO identity.events (global_position, tx_id, stream_id, stream_version, event_id, name, type, data, time, correlation_id, causation_id, actor)
      SELECT 900000000, tx_id, 'identity-forged', 1, '00000000-0000-4000-8000-00000000f04d', name, type, data, time, 'forged', 'forged', 'mallory'
      FROM identity.events WHERE global_position = 1`);
    expect(identityStore(await verify())).toMatchObject({ ok: false, problem: 'missing-from-log', eventId: '00000000-0000-4000-8000-00000000f04d', position: '900000000' });
    await tampered('identity.events', 'events_are_immutable', `DELETE FROM identity.events WHERE global_position = 900000000`);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('takes a configured witness’s cosignature of a checkpoint over HTTP and serves it with the note; refuses others', async () => {
    const { client } = deployment;
    expect((await client.call('GET', '/audit/keys', { token: auditor })).body.witnesses).toEqual([witness.verifierKey]);
    const checkpoint = (await client.call('GET', '/audit/checkpoint', { token: auditor })).body as { treeSize: number; note: string };
    const line = witness.cosign(checkpoint.note);
    const posted = await client.call('POST', `/audit/checkpoints/${checkpoint.treeSize}/cosignatures`, { token: auditor, body: { cosignature: line } });
    expect([posted.status, posted.body]).toEqual([200, expect.objectContaining({ treeSize: checkpoint.treeSize, witness: witness.verifierKey, added: true })]);
    const served = await client.call('GET', `/audit/checkpoints?size=${checkpoint.treeSize}`, { token: auditor });
    expect(served.body.items[0]).toMatchObject({ note: `${checkpoint.note}${line}\n`, cosignedBy: [witness.verifierKey] });
    const forged = await client.call('POST', `/audit/checkpoints/${checkpoint.treeSize}/cosignatures`, { token: auditor, body: { cosignature: line.replace(/.{4}$/, 'AAA=') } });
    expect([forged.status, forged.body.type]).toEqual([422, expect.stringMatching(/cosignature-(bad-signature|malformed)$/)]);
    expect((await client.call('POST', '/audit/checkpoints/999999/cosignatures', { token: auditor, body: { cosignature: line } })).status).toBe(404);
  });

  it('names an audit entry changed or deleted in the log, on the tree and against the store', async () => {
    const { rows } = await db.query<{ seq: string }>(`SELECT seq FROM audit.log WHERE source = '/custos/identity' ORDER BY seq LIMIT 1`);
    const seq = Number(rows[0].seq);
    await tampered('audit.log', 'log_append_only', `UPDATE audit.log SET event = jsonb_set(event, '{actor}', '"mallory"') WHERE seq = ${seq}`);
    const changed = await verify();
    expect(changed).toMatchObject({ ok: false, brokenAt: seq, problem: 'changed' });
    expect(identityStore(changed)).toMatchObject({ ok: false, problem: 'changed', seq });

    await tampered('audit.log', 'log_append_only', `DELETE FROM audit.log WHERE seq = ${seq}`);
    const deleted = await verify();
    expect(deleted).toMatchObject({ ok: false, brokenAt: seq, problem: 'deleted' });
    expect(identityStore(deleted)).toMatchObject({ ok: false, problem: 'missing-from-log', position: '1' });
  });
});
