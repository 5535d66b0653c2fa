import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import type { HrChange, HrOutcome } from './hr-change';

/** An HR change's dedupe record: its (system, eventId), the identity it is about and how it ended. */
export interface HrInboxRecord {
  system: string;
  eventId: string;
  identityId: string;
  status: Exclude<HrOutcome['status'], 'duplicate'>;
}

/** The dedupe key of a change: its (system, eventId). */
export const dedupeKey = (change: Pick<HrChange, 'system' | 'eventId'>) => `${change.system}\u0000${change.eventId}`;

/**
 * HrInbox is the identity context's inbox of HR changes: each (system, eventId) is handled once,
 * and its record keeps the outcome it had, so that a repeat is answered with the first answer.
 * Records are claimed in the transaction that applies the changes, so they commit together.
 */
export class HrInbox {
  private readonly table: string;

  constructor(
    private readonly db: SqlDatabase,
    schema: string,
  ) {
    this.table = `${schema}.hr_inbox`;
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.table} (
      system text NOT NULL, event_id text NOT NULL, identity_id text, status text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (system, event_id)) WITH (fillfactor = 80)`);
  }

  /**
   * claim writes the records of changes not seen before, each with the outcome it will most
   * likely have; for the changes handled before, it returns the identity their record holds, by
   * dedupeKey. The primary key makes a change being claimed elsewhere right now wait for it.
   */
  async claim(tx: SqlExecutor, records: HrInboxRecord[]): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    if (records.length === 0) return seen;
    const { rows: claimed } = await tx.query<{ system: string; event_id: string }>(
      `INSERT INTO ${this.table} (system, event_id, identity_id, status) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT DO NOTHING RETURNING system, event_id`,
      [records.map((r) => r.system), records.map((r) => r.eventId), records.map((r) => r.identityId), records.map((r) => r.status)],
    );
    const fresh = new Set(claimed.map((r) => dedupeKey({ system: r.system, eventId: r.event_id })));
    const repeats = records.filter((r) => !fresh.has(dedupeKey(r)));
    if (repeats.length === 0) return seen;
    const { rows } = await tx.query<{ system: string; event_id: string; identity_id: string }>(
      `SELECT h.system, h.event_id, h.identity_id FROM ${this.table} h JOIN unnest($1::text[], $2::text[]) AS k(s, e) ON h.system = k.s AND h.event_id = k.e`,
      [repeats.map((r) => r.system), repeats.map((r) => r.eventId)],
    );
    for (const r of rows) seen.set(dedupeKey({ system: r.system, eventId: r.event_id }), r.identity_id);
    return seen;
  }

  /** Settles the claims that ended otherwise than claimed, in one statement: `changed` get their outcome, `dropped` leave no record. */
  async settle(tx: SqlExecutor, changed: HrInboxRecord[], dropped: Array<Pick<HrChange, 'system' | 'eventId'>>): Promise<void> {
    if (changed.length === 0 && dropped.length === 0) return;
    await tx.query(
      `WITH done AS (
         UPDATE ${this.table} h SET identity_id = u.id, status = u.status FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(s, e, id, status)
         WHERE h.system = u.s AND h.event_id = u.e RETURNING 1
       ), dropped AS (
         DELETE FROM ${this.table} h USING unnest($5::text[], $6::text[]) AS r(s, e) WHERE h.system = r.s AND h.event_id = r.e RETURNING 1
       )
       SELECT (SELECT count(*) FROM done) AS done, (SELECT count(*) FROM dropped) AS dropped`,
      [
        changed.map((r) => r.system),
        changed.map((r) => r.eventId),
        changed.map((r) => r.identityId),
        changed.map((r) => r.status),
        dropped.map((r) => r.system),
        dropped.map((r) => r.eventId),
      ],
    );
  }
}
