import type { CustosEvent } from '@custos/platform/event-store';
import { eventDigest, type StoreEventDigest, type StoreEventsPage, type StoreEventsRequest } from '@custos/platform/runtime';
import type { AuditLog } from '../read-models/audit-log/audit-log';
import type { TreeVerdict } from '../transparency/transparency-log';

/** What the cross-check found for one context's store. */
export type StoreVerdict =
  | {
      context: string;
      ok: true;
      /** Events found in both, in the same order with the same bytes. */
      events: number;
      /** Stored events after the log's last one of this context: not recorded yet (the log follows the store). */
      pending: number;
      /**
       * Nothing answers for this context's store and the log holds none of its events: the
       * context is not deployed (a distributed setup without the PostgreSQL gateway), so there is
       * nothing to compare. A context whose events the log holds must answer, or verify fails.
       */
      absent?: true;
    }
  | {
      context: string;
      ok: false;
      events: number;
      problem: 'missing-from-log' | 'not-in-store' | 'changed' | 'order' | 'unreachable';
      /** The log entry concerned, if any. */
      seq?: number;
      /** The store event concerned, if any: its id and position in the context's store. */
      eventId?: string;
      position?: string;
      reason: string;
    };

/** Asks a context's store for a page (`rpc.<context>.store-events`). */
export type StorePages = (context: string, request: StoreEventsRequest) => Promise<StoreEventsPage>;

interface LogRow {
  seq: number;
  id: string;
  event: CustosEvent;
}

const PAGE = 2000;

/**
 * Checks the audit log against a context's event store, both read in order: every event the store
 * holds up to the log's last entry of that context is in the log at its place (and no other),
 * with the same bytes (digests of the canonical JSON). Names the first difference, on either side.
 * Events stored after the log's last entry are `pending`, not a difference: the log follows the
 * store through the bus.
 */
export async function crossCheckStore(log: AuditLog, context: string, pages: StorePages): Promise<StoreVerdict> {
  const source = `/custos/${context}`;
  let logAfter = 0;
  let logRows: LogRow[] = [];
  let logIndex = 0;
  let logDone = false;
  const nextLog = async (): Promise<LogRow | undefined> => {
    if (logIndex >= logRows.length && !logDone) {
      const { rows } = await log.db.query<{ seq: string; event_id: string; event: CustosEvent | string }>(
        `SELECT seq, event_id, event FROM ${log.schema}.log WHERE source = $1 AND seq > $2 ORDER BY seq LIMIT ${PAGE}`,
        [source, logAfter],
      );
      logRows = rows.map((r) => ({ seq: Number(r.seq), id: r.event_id, event: typeof r.event === 'string' ? (JSON.parse(r.event) as CustosEvent) : r.event }));
      logIndex = 0;
      logDone = rows.length < PAGE;
      if (logRows.length > 0) logAfter = logRows[logRows.length - 1].seq;
    }
    return logRows[logIndex];
  };
  const seqOf = async (eventId: string): Promise<number | undefined> => {
    const { rows } = await log.db.query<{ seq: string }>(`SELECT seq FROM ${log.schema}.log WHERE event_id = $1`, [eventId]);
    return rows[0] ? Number(rows[0].seq) : undefined;
  };

  let events = 0;
  let pending = 0;
  let request: StoreEventsRequest = {};
  const fail = (problem: Exclude<StoreVerdict, { ok: true }>['problem'], reason: string, at: { seq?: number; stored?: StoreEventDigest }): StoreVerdict => ({
    context,
    ok: false,
    events,
    problem,
    ...(at.seq !== undefined && { seq: at.seq }),
    ...(at.stored && { eventId: at.stored.id, ...(at.stored.position !== undefined && { position: at.stored.position }) }),
    reason,
  });
  for (;;) {
    let page: StoreEventsPage;
    try {
      page = await pages(context, request);
    } catch (error) {
      if (request.after === undefined && !(await nextLog())) return { context, ok: true, events: 0, pending: 0, absent: true };
      return fail('unreachable', `the ${context} store did not answer: ${(error as Error).message}`, {});
    }
    for (const stored of page.events) {
      const entry = await nextLog();
      if (!entry) {
        pending++;
        continue;
      }
      if (entry.id === stored.id) {
        if (eventDigest(entry.event) !== stored.digest) {
          return fail('changed', `${context} event ${stored.id} differs between its store (position ${stored.position}) and audit entry ${entry.seq}: one of them was changed`, { seq: entry.seq, stored });
        }
        logIndex++;
        events++;
        continue;
      }
      const elsewhere = await seqOf(stored.id);
      if (elsewhere === undefined) {
        return fail('missing-from-log', `${context} event ${stored.id} (position ${stored.position}) is stored but not in the audit log: deleted from the log, or inserted into the store`, { seq: entry.seq, stored });
      }
      if (elsewhere > entry.seq) {
        return fail('not-in-store', `audit entry ${entry.seq} (${entry.id}) is not in the ${context} store where the log has it: deleted from the store, or inserted into the log`, { seq: entry.seq, stored });
      }
      return fail('order', `${context} event ${stored.id} is audit entry ${elsewhere}, before entry ${entry.seq} that the store has earlier: the order differs`, { seq: elsewhere, stored });
    }
    if (page.events.length === 0) break;
    request = { after: page.checkpoint };
  }
  const left = await nextLog();
  if (left) return fail('not-in-store', `audit entry ${left.seq} (${left.id}) is not in the ${context} store: deleted from the store, or inserted into the log`, { seq: left.seq });
  return { context, ok: true, events, pending };
}

export type FullVerdict = TreeVerdict & { stores: StoreVerdict[] };

/**
 * verifyAll: the log's own tree and checkpoints (AuditLog.verify), then the log against each
 * context's store; ok only when all agree. The cross-check runs even when the tree does not verify,
 * so that both sides of a difference are named.
 */
export async function verifyAll(log: AuditLog, contexts: readonly string[], pages: StorePages): Promise<FullVerdict> {
  const tree = await log.verify();
  const stores: StoreVerdict[] = [];
  for (const context of contexts) stores.push(await crossCheckStore(log, context, pages));
  return { ...tree, ok: tree.ok && stores.every((s) => s.ok), stores } as FullVerdict;
}
