import { WrongExpectedVersionError, type SqlDatabase, type SqlExecutor } from '@custos/platform/event-store';
import { GroupCommit, runAlone, runTogether, settle, Settled } from './group-commit';

describe('GroupCommit', () => {
  /** A run that records its batches and waits until released, so arrivals can be staged. */
  function staged() {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    const run = async (items: number[]): Promise<Array<Settled<number>>> => {
      batches.push(items);
      await new Promise<void>((resolve) => releases.push(resolve));
      return items.map((i) => (i < 0 ? { ok: false, error: new Error(`refused ${i}`) } : { ok: true, value: i * 10 }));
    };
    const releaseNext = async () => {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      releases.shift()!();
    };
    return { batches, run, releaseNext };
  }

  it('runs a lone item at once, and groups what arrives meanwhile, in order and up to maxBatch', async () => {
    const { batches, run, releaseNext } = staged();
    const group = new GroupCommit(run, { maxBatch: 3 });
    const first = group.submit(1);
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4, 5, 6].map((i) => group.submit(i));
    await releaseNext();
    expect(await first).toBe(10);
    await releaseNext();
    await releaseNext();
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('settles each item on its own: one refusal rejects only its caller', async () => {
    const { run, releaseNext } = staged();
    const group = new GroupCommit(run, { maxBatch: 10 });
    const results = [1, -2, 3].map((i) => settle(() => group.submit(i)));
    await releaseNext();
    await releaseNext();
    const [a, b, c] = await Promise.all(results);
    expect(a).toEqual({ ok: true, value: 10 });
    expect(b).toMatchObject({ ok: false, error: { message: 'refused -2' } });
    expect(c).toEqual({ ok: true, value: 30 });
  });

  it('rejects every item of a batch whose run throws, and goes on with the next batch', async () => {
    let calls = 0;
    const group = new GroupCommit<number, number>(async (items) => {
      calls += 1;
      if (calls === 1) throw new Error('database down');
      return items.map((i) => ({ ok: true, value: i }));
    }, { maxBatch: 10 });
    await expect(group.submit(1)).rejects.toThrow('database down');
    expect(await group.submit(2)).toBe(2);
  });

  it('refuses a maxBatch that is not a positive integer', () => {
    expect(() => new GroupCommit(async () => [], { maxBatch: 0 })).toThrow(RangeError);
  });
});

describe('runTogether', () => {
  /** A database whose transactions are numbered; a throwing transaction counts as rolled back. */
  function fakeDb() {
    const committed: number[][] = [];
    let open: number[] = [];
    const db = {
      transaction: async <T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
        open = [];
        const result = await work({ query: async (_text: string, params?: unknown[]) => (open.push(...(params as number[])), { rows: [], rowCount: 0 }) } as unknown as SqlExecutor);
        committed.push(open);
        return result;
      },
    } as unknown as SqlDatabase;
    return { db, committed };
  }
  /** Items are numbers; item n writes stream `s-n`; 0 is refused, and `moved` streams conflict while they are in a group. */
  const attemptWith = (moved: Set<number>, failing = false) => async (tx: SqlExecutor, items: number[]): Promise<Array<Settled<number>>> => {
    if (failing && items.length > 1) throw new Error('deadlock');
    const conflict = items.find((i) => moved.has(i) && items.length > 1);
    if (conflict !== undefined) throw new WrongExpectedVersionError(`s-${conflict}`, 1, 2);
    await tx.query('write', items);
    return items.map((i) => (i === 0 ? { ok: false, error: new Error('refused') } : { ok: true, value: i * 10 }));
  };

  it('runs a group in one transaction and settles each item, a refusal among them', async () => {
    const { db, committed } = fakeDb();
    const settled = await runTogether(db, [1, 0, 2], attemptWith(new Set()), { streamOf: (i) => `s-${i}` });
    expect(settled).toEqual([{ ok: true, value: 10 }, { ok: false, error: new Error('refused') }, { ok: true, value: 20 }]);
    expect(committed).toEqual([[1, 0, 2]]);
  });

  it('takes the items of a stream that moved out of the group, tries the others together again, then runs those alone', async () => {
    const { db, committed } = fakeDb();
    const refused: number[] = [];
    const settled = await runTogether(db, [1, 2, 3, 4], attemptWith(new Set([2, 4])), { streamOf: (i) => `s-${i}`, onRefused: (_error, alone) => refused.push(alone) });
    expect(settled.map((s) => s.ok && s.value)).toEqual([10, 20, 30, 40]);
    expect(committed).toEqual([[1, 3], [2], [4]]);
    expect(refused).toEqual([1, 1]);
  });

  it('runs every item alone when the database refuses the group otherwise', async () => {
    const { db, committed } = fakeDb();
    const settled = await runTogether(db, [1, 2, 3], attemptWith(new Set(), true), { streamOf: (i) => `s-${i}` });
    expect(settled.map((s) => s.ok && s.value)).toEqual([10, 20, 30]);
    expect(committed).toEqual([[1], [2], [3]]);
  });

  it('rolls back the transaction of a lone item it refuses', async () => {
    const { db, committed } = fakeDb();
    expect(await runAlone(db, 0, attemptWith(new Set()))).toEqual({ ok: false, error: new Error('refused') });
    expect(committed).toEqual([]);
  });
});
