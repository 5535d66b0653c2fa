import { GroupCommit, settle, Settled } from './group-commit';

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
