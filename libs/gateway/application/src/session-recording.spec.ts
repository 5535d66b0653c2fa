import { sessionStreamId, type RecordedStatement, type SessionStarted } from '@custos/gateway/contracts';
import { SqlEventStore } from '@custos/platform/event-store';
import { usePostgres } from '@custos/platform/testing';
import { SessionRecorder } from './session-recorder';
import { SessionTokens } from './session-tokens';

const started = (sessionId: string): SessionStarted['data'] => ({
  sessionId,
  identityId: 'ada',
  target: 'pg-prod',
  database: 'app',
  grantIds: ['g1'],
  requestIds: [],
  entitlements: ['pg:read'],
  clientAddress: '127.0.0.1',
  upstreamUser: 'custos_x',
  gatewayId: 'gw-a',
  startedAt: '2026-12-05T10:00:00.000Z',
});
const statement = (seq: number): RecordedStatement => ({ seq, protocol: 'simple', text: `SELECT ${seq}`, startedAt: '2026-12-05T10:00:00.000Z', durationMs: 0 });

describe('session recording and tokens over PostgreSQL', () => {
  const pg = usePostgres('gateway_app');

  it('appends the statements of many sessions in few batches, in order, and ends each after its last statement', async () => {
    const store = await SqlEventStore.open(pg.db, { context: 'gateway', schema: pg.schema });
    const recorder = new SessionRecorder(store, { maxPendingPerSession: 1000, retryMs: 50, lingerMs: 10, onError: (e) => { throw e; } });
    const batches: number[] = [];
    recorder.subscribe((_id, events) => batches.push(events.length));
    await Promise.all(['s1', 's2', 's3'].map((id) => recorder.start(started(id), { actor: 'ada' })));
    for (let seq = 1; seq <= 50; seq++) for (const id of ['s1', 's2', 's3']) expect(recorder.record(id, statement(seq))).toBe(true);
    await recorder.end('s2', { reason: 'client-closed', endedBy: 'ada', now: new Date('2026-12-05T10:01:00Z') });
    await recorder.flush();
    for (const id of ['s1', 's2', 's3']) {
      const events = await store.readStream(sessionStreamId(id));
      const seqs = events.filter((e) => e.name === 'StatementsRecorded').flatMap((e) => (e.data as { statements: RecordedStatement[] }).statements.map((s) => s.seq));
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      // 150 statements took a handful of appends, not one each.
      expect(events.length).toBeLessThan(6);
    }
    expect((await store.readStream(sessionStreamId('s2'))).at(-1)).toMatchObject({ name: 'SessionEnded', data: { statements: 50, reason: 'client-closed' } });
    expect(recorder.record('s2', statement(51))).toBe(false);
    recorder.stop();
  });

  it('fails closed: a session whose statements cannot be stored is refused more once its queue is full', async () => {
    const store = await SqlEventStore.open(pg.db, { context: 'gateway', schema: pg.schema });
    const errors: unknown[] = [];
    const recorder = new SessionRecorder(store, { maxPendingPerSession: 3, retryMs: 10_000, onError: (e) => errors.push(e) });
    await recorder.start(started('s1'), { actor: 'ada' });
    // Another writer takes the stream's next version: this recorder's appends now fail.
    await store.append(sessionStreamId('s1'), [{ name: 'StatementsRecorded', data: { sessionId: 's1', statements: [statement(1)] }, actor: 'someone-else' }], 1);
    expect(recorder.record('s1', statement(1))).toBe(true);
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(recorder.record('s1', statement(2))).toBe(true);
    expect(recorder.record('s1', statement(3))).toBe(true);
    expect(recorder.record('s1', statement(4))).toBe(false);
    recorder.stop();
  });

  it('spends a token once, for its identity and target, and tells a replay from a stranger', async () => {
    let now = new Date('2026-12-05T10:00:00Z');
    const tokens = new SessionTokens(pg.db, pg.schema, () => now);
    await tokens.migrate();
    const { token, expiresAt } = await tokens.issue({ identityId: 'ada', target: 'pg-prod' }, 60_000);
    expect(expiresAt).toBe('2026-12-05T10:01:00.000Z');
    expect(await tokens.spend(token, 'bob', 'pg-prod')).toEqual({ ok: false, reason: 'wrong-user' });
    expect(await tokens.spend(token, 'ada', 'pg-dev')).toEqual({ ok: false, reason: 'wrong-target' });
    const both = await Promise.all([tokens.spend(token, 'ada', 'pg-prod'), tokens.spend(token, 'ada', 'pg-prod')]);
    expect(both.filter((r) => r.ok)).toHaveLength(1);
    expect(both.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'replayed-token' }]);
    expect(await tokens.spend('cgs_nothing-like-it', 'ada', 'pg-prod')).toEqual({ ok: false, reason: 'invalid-token' });
    expect(await tokens.spend('password', 'ada', 'pg-prod')).toEqual({ ok: false, reason: 'invalid-token' });
    const late = await tokens.issue({ identityId: 'ada', target: 'pg-prod' }, 60_000);
    now = new Date('2026-12-05T10:02:00Z');
    expect(await tokens.spend(late.token, 'ada', 'pg-prod')).toEqual({ ok: false, reason: 'expired-token' });
    // Only hashes are kept.
    const { rows } = await pg.db.query(`SELECT * FROM ${pg.schema}.session_tokens`);
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
  });
});
