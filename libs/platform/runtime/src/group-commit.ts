import { WrongExpectedVersionError } from '@custos/platform/event-store';

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

/** The value of a Settled, or its error thrown. */
export function unwrap<T>(settled: Settled<T>): T {
  if (settled.ok) return settled.value;
  throw settled.error;
}

/**
 * What opens the transactions a group runs in: a SqlDatabase (its transactions are SQL), or an
 * event store's units of work (`{ transaction: (work) => store.unitOfWork(work) }`). `X` is what
 * the work is handed.
 */
export interface Transactional<X> {
  transaction<T>(work: (tx: X) => Promise<T>): Promise<T>;
}

/** Work on a group of items inside one transaction, settling each item in the order given. */
export type GroupAttempt<I, O, X> = (tx: X, items: I[]) => Promise<Array<Settled<O>>>;

export interface TogetherOptions<I> {
  /** The stream an item was last found to write, to take it out of the group when that stream moved. */
  streamOf: (item: I) => string | undefined;
  /** Told when the database refused the group's transaction and some items are run alone instead. */
  onRefused?: (error: unknown, alone: number) => void;
}

/**
 * runTogether runs `attempt` over a group in one transaction and gives each item the outcome it
 * would have had alone. When a stream moved under the group (a concurrent writer took its
 * version), the items writing that stream are taken out and the others are tried together
 * again; any other refusal of the transaction takes every item out. Items taken out then run
 * one by one, each in a transaction of its own (see runAlone).
 */
export async function runTogether<I, O, X>(db: Transactional<X>, items: I[], attempt: GroupAttempt<I, O, X>, options: TogetherOptions<I>): Promise<Array<Settled<O>>> {
  const settled: Array<Settled<O>> = new Array(items.length);
  let group = items.map((item, index) => ({ item, index }));
  const alone: typeof group = [];
  while (group.length > 0) {
    try {
      const outcomes = await db.transaction((tx) => attempt(tx, group.map((g) => g.item)));
      group.forEach((g, i) => (settled[g.index] = outcomes[i]));
      break;
    } catch (error) {
      const moved = error instanceof WrongExpectedVersionError ? group.filter((g) => options.streamOf(g.item) === error.streamId) : [];
      const out = moved.length > 0 ? moved : group;
      options.onRefused?.(error, out.length);
      alone.push(...out);
      group = group.filter((g) => !out.includes(g));
    }
  }
  alone.sort((a, b) => a.index - b.index);
  for (const { item, index } of alone) settled[index] = await runAlone(db, item, attempt);
  return settled;
}

/** runAlone runs `attempt` for one item in a transaction of its own; an item it refuses rolls that transaction back. */
export function runAlone<I, O, X>(db: Transactional<X>, item: I, attempt: GroupAttempt<I, O, X>): Promise<Settled<O>> {
  return settle(() => db.transaction(async (tx) => unwrap((await attempt(tx, [item]))[0])));
}
