import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

/**
 * The inbox of a context: which (consumer, message) pairs it has already handled. A consumer
 * claims a message in the same transaction as its effect, so a redelivered event has no second effect.
 */
export class Inbox {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.inbox (
      consumer text NOT NULL, message_id text NOT NULL, handled_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer, message_id))`);
  }

  /** Claims a message for a consumer inside `tx`; false when it was handled before (or is being handled right now). */
  async claim(tx: SqlExecutor, consumer: string, messageId: string): Promise<boolean> {
    return (await this.claimMany(tx, consumer, [messageId])).has(messageId);
  }

  /**
   * Claims several messages for a consumer inside `tx` in one statement: the ids claimed now. Those
   * handled before (or being handled right now) are left out; an id given twice counts once.
   */
  async claimMany(tx: SqlExecutor, consumer: string, messageIds: string[]): Promise<Set<string>> {
    const { rows } = await tx.query<{ message_id: string }>(
      `INSERT INTO ${this.schema}.inbox (consumer, message_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING message_id`,
      [consumer, messageIds],
    );
    return new Set(rows.map((r) => r.message_id));
  }

  /** Runs `effect` once per (consumer, message): the claim and the effect commit together. */
  async once(consumer: string, messageId: string, effect: (tx: SqlExecutor) => Promise<void>): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if (!(await this.claim(tx, consumer, messageId))) return false;
      await effect(tx);
      return true;
    });
  }
}
