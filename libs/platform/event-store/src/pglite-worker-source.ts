/**
 * The worker thread that owns the PGlite instance, as JavaScript source run with
 * `new Worker(source, { eval: true })`. It is plain CommonJS on purpose: PGlite loads its
 * wasm and Node modules with dynamic `import()`, which fails inside Jest's module sandbox
 * and in bundles, but always works in a worker's own Node context.
 *
 * Protocol (every request has an `id`, every reply is `{ id, ok, value | error }`):
 * every request is answered, with an error when its result cannot be sent back (see `reply`).
 *   open {dataDir} | query {text, params} | begin -> txId | txquery {txId, text, params}
 *   end {txId, commit} | close
 */
export const PGLITE_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);

const ERROR_FIELDS = ['name', 'code', 'severity', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'dataType', 'constraint', 'routine'];
let pg;
let nextTx = 1;
const transactions = new Map();

function plain(result) {
  return { rows: result.rows, rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length };
}

function errorData(error) {
  const data = { message: error && error.message !== undefined ? String(error.message) : String(error) };
  for (const field of ERROR_FIELDS) if (error && error[field] !== undefined) data[field] = error[field];
  return data;
}

// Structured clone is recursive on both sides: a value nested a few thousand levels deep (a jsonb
// column) is posted without error but cannot be read by the receiving thread, whose 'messageerror'
// does not say which request it answered, so the caller would wait forever. Results nested deeper
// than this are answered with an error instead.
const MAX_REPLY_DEPTH = 256;

function tooDeep(value) {
  const stack = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop();
    if (item === null || typeof item !== 'object' || item instanceof Date || ArrayBuffer.isView(item)) continue;
    if (depth >= MAX_REPLY_DEPTH) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

function reply(id, value) {
  try {
    if (tooDeep(value)) throw new Error('the result nests deeper than ' + MAX_REPLY_DEPTH + ' levels and cannot be passed back from the PGlite worker');
    parentPort.postMessage({ id, ok: true, value });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: errorData(error) });
  }
}

function send(id, settle) {
  Promise.resolve()
    .then(settle)
    .then(
      (value) => reply(id, value),
      (error) => parentPort.postMessage({ id, ok: false, error: errorData(error) }),
    );
}

const ROLLBACK = Symbol('rollback');

function begin(id) {
  const txId = nextTx++;
  let started = false;
  const control = {};
  const finished = pg.transaction(async (tx) => {
    started = true;
    const decided = new Promise((resolve, reject) => {
      control.commit = resolve;
      control.rollback = () => reject(ROLLBACK);
    });
    control.tx = tx;
    transactions.set(txId, control);
    reply(id, txId);
    await decided;
  });
  finished.then(
    () => control.endId !== undefined && parentPort.postMessage({ id: control.endId, ok: true }),
    (error) => {
      if (!started) return parentPort.postMessage({ id, ok: false, error: errorData(error) });
      if (control.endId === undefined) return;
      if (error === ROLLBACK) return parentPort.postMessage({ id: control.endId, ok: true });
      parentPort.postMessage({ id: control.endId, ok: false, error: errorData(error) });
    },
  ).finally(() => transactions.delete(txId));
}

function transaction(txId) {
  const control = transactions.get(txId);
  if (!control) throw new Error('transaction ' + txId + ' is not open');
  return control;
}

parentPort.on('message', (message) => {
  const { id } = message;
  switch (message.op) {
    case 'open':
      return send(id, async () => {
        pg = await PGlite.create(message.dataDir);
      });
    case 'query':
      return send(id, async () => plain(await pg.query(message.text, message.params)));
    case 'begin':
      return begin(id);
    case 'txquery':
      return send(id, async () => plain(await transaction(message.txId).tx.query(message.text, message.params)));
    case 'end': {
      let control;
      try {
        control = transaction(message.txId);
      } catch (error) {
        return parentPort.postMessage({ id, ok: false, error: errorData(error) });
      }
      control.endId = id;
      return message.commit ? control.commit() : control.rollback();
    }
    case 'close':
      return send(id, async () => {
        if (pg && !pg.closed) await pg.close();
      });
    default:
      return parentPort.postMessage({ id, ok: false, error: { message: 'unknown op ' + message.op } });
  }
});
`;
