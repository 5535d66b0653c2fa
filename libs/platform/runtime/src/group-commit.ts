/** How one item of a group came out: its value, or the error its caller should see. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  /** Most items handed to one `run`. */
  maxBatch: number;
}

/**
 * GroupCommit turns concurrent single-item calls into batches, the way a database's group commit
 * turns concurrent transactions into one flush: the first item runs at once, alone; items that
 * arrive while a batch is running wait and then run together as the next batch. A lone caller
 * is never delayed, and under load one transaction (one round trip per statement, one commit)
 * serves many callers. `run` settles every item of its batch, in the order given.
 */
export class GroupCommit<I, O> {
  private queue: Array<{ item: I; resolve: (value: O) => void; reject: (error: unknown) => void }> = [];
  private running = false;

  constructor(
    private readonly run: (items: I[]) => Promise<Array<Settled<O>>>,
    private readonly options: GroupCommitOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatch);
        let settled: Array<Settled<O>>;
        try {
          settled = await this.run(batch.map((b) => b.item));
          if (settled.length !== batch.length) throw new Error(`group commit settled ${settled.length} of ${batch.length} items`);
        } catch (error) {
          settled = batch.map(() => ({ ok: false, error }));
        }
        batch.forEach((b, i) => {
          const s = settled[i];
          if (s.ok) b.resolve(s.value);
          else b.reject(s.error);
        });
      }
    } finally {
      this.running = false;
    }
  }
}

/** Runs `work` and captures its outcome as a Settled. */
export async function settle<T>(work: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}
