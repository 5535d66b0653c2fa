import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Worker } from 'node:worker_threads';
import { PGLITE_WORKER_SOURCE } from './pglite-worker-source';
import { runCallbacks, type SqlDatabase, type SqlExecutor } from './sql';

type QueryResult<R> = { rows: R[]; rowCount: number };

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: Record<string, unknown> & { message: string };
}

/** Rebuilds a worker-side error with the fields callers test (`code`, `constraint`, ...). */
function toError(data: Reply['error']): Error {
  const { message, ...fields } = data ?? { message: 'PGlite worker failed' };
  return Object.assign(new Error(message), fields);
}

/**
 * PGlite runs in a worker thread: its queries execute synchronously in wasm and would stall
 * the event loop (HTTP, NATS) for their whole duration on the main thread, and its dynamic
 * imports only load in a plain Node context (not under Jest's module sandbox).
 */
class PgliteWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor() {
    this.worker = new Worker(PGLITE_WORKER_SOURCE, {
      eval: true,
      workerData: { pglitePath: require.resolve('@electric-sql/pglite') },
    });
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const request = this.pending.get(reply.id);
      if (!request) return;
      this.settled(reply.id);
      if (reply.ok) request.resolve(reply.value);
      else request.reject(toError(reply.error));
    });
    const fail = (error: Error) => {
      this.failure = error;
      for (const id of [...this.pending.keys()]) {
        const request = this.pending.get(id);
        this.settled(id);
        request?.reject(error);
      }
    };
    this.worker.on('error', fail);
    // A reply this thread cannot read names no request; the worker refuses to send such values
    // (see MAX_REPLY_DEPTH), so this is the last resort that keeps a caller from waiting forever.
    this.worker.on('messageerror', (error) => {
      for (const id of [...this.pending.keys()]) {
        const request = this.pending.get(id);
        this.settled(id);
        request?.reject(new Error(`a reply of the PGlite worker could not be read: ${error.message}`));
      }
    });
    this.worker.on('exit', (code) => fail(new Error(`PGlite worker exited (code ${code})`)));
  }

  call<T>(message: Record<string, unknown>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // Referenced only while a reply is awaited: an idle database must not keep the process
    // alive, but a process awaiting a query must not exit under it.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.worker.postMessage({ ...message, id });
      } catch (error) {
        // A parameter that cannot be cloned: refused here, and the worker is not left referenced.
        this.settled(id);
        reject(error as Error);
      }
    });
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * createPgliteDatabase opens an embedded PostgreSQL (PGlite) in `dataDir`, or in memory
 * when `dataDir` is undefined. PGlite has one connection: a `query` issued by another
 * caller while a `transaction` is open waits for that transaction to end; a query or a
 * transaction issued from inside the transaction's own async flow joins it (as a savepoint).
 */
export async function createPgliteDatabase(dataDir?: string): Promise<SqlDatabase> {
  const directory = dataDir === undefined ? undefined : resolve(dataDir);
  if (directory !== undefined) await mkdir(directory, { recursive: true });
  const worker = new PgliteWorker();
  try {
    await worker.call({ op: 'open', dataDir: directory });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let closed: Promise<void> | null = null;

  // PGlite has one connection. Work that runs inside a transaction and reaches for the
  // database itself (a handler calling a service that opens its own transaction) would wait
  // for the very transaction it runs in. So, within one async flow, a query joins the open
  // transaction and a nested transaction becomes a savepoint of it.
  const flows = new AsyncLocalStorage<{ tx: SqlExecutor; open: boolean }>();
  let savepoints = 0;

  return {
    dialect: 'pglite',
    query<R = Record<string, unknown>>(text: string, params?: unknown[]) {
      const flow = flows.getStore();
      if (flow?.open) return flow.tx.query<R>(text, params);
      // PGlite.query takes the same mutex as PGlite.transaction, which is what keeps a
      // query from another caller out of an open transaction.
      return worker.call<QueryResult<R>>({ op: 'query', text, params });
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const outer = flows.getStore();
      if (outer?.open) {
        const savepoint = `custos_sp_${++savepoints}`;
        await outer.tx.query(`SAVEPOINT ${savepoint}`);
        try {
          const nested = await work(outer.tx);
          await outer.tx.query(`RELEASE SAVEPOINT ${savepoint}`);
          return nested;
        } catch (error) {
          await outer.tx.query(`ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => undefined);
          throw error;
        }
      }
      const txId = await worker.call<number>({ op: 'begin' });
      const committed: Array<() => void> = [];
      const tx: SqlExecutor = {
        query: <R = Record<string, unknown>>(text: string, params?: unknown[]) =>
          worker.call<QueryResult<R>>({ op: 'txquery', txId, text, params }),
        // A nested transaction (a savepoint) shares this executor: its callbacks wait for the outer commit.
        afterCommit: (callback) => void committed.push(callback),
      };
      const flow = { tx, open: true };
      let result: T;
      try {
        result = await flows.run(flow, () => work(tx));
      } catch (error) {
        flow.open = false;
        await worker.call({ op: 'end', txId, commit: false }).catch(() => undefined);
        throw error;
      }
      // Timers and promises started inside the work keep this context: from now on they must
      // use the database normally, not a transaction that has ended.
      flow.open = false;
      await worker.call({ op: 'end', txId, commit: true });
      runCallbacks(committed);
      return result;
    },
    close() {
      closed ??= worker
        .call({ op: 'close' })
        .finally(() => worker.terminate())
        .then(() => undefined);
      return closed;
    },
  };
}
