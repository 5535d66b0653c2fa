import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { rewrap, seal, unseal, type SealedSecret } from './envelope';
import type { KeyEncryptionKey } from './key-encryption-key';

interface SecretRow {
  secret_id: string;
  version: number;
  kek_id: string;
  wrapped_key: Uint8Array;
  iv: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

/** The vault holds no such secret (never written, or deleted once delivered). */
export class SecretMissing extends Error {
  constructor(readonly secretId: string, readonly version: number) {
    super(`the vault holds no version ${version} of ${secretId}`);
  }
}

/**
 * Vault is the privileged context's secret store: each version of a secret (a target's admin
 * password, an account's password, a just-in-time account's password until it is delivered)
 * is a row of `<schema>.vault_secrets`, sealed with envelope encryption (see seal). The event
 * store never holds a secret: events name a secret's id and version. The rows live in the
 * context's SQL database beside the events, so a secret is written in the same transaction as
 * the event that refers to it. Re-wrapping after a key-encryption key rotation rewrites only
 * the wrapped data keys.
 */
export class Vault {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    private readonly kek: KeyEncryptionKey,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.vault_secrets (
      secret_id text NOT NULL, version int NOT NULL, kek_id text NOT NULL, wrapped_key bytea NOT NULL,
      iv bytea NOT NULL, ciphertext bytea NOT NULL, tag bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (secret_id, version))`);
    // The re-wrap looks for the rows not under the current key.
    await x.query(`CREATE INDEX IF NOT EXISTS vault_secrets_kek ON ${this.schema}.vault_secrets (kek_id)`);
  }

  /**
   * Seals and stores a version of a secret inside `tx`. A version is written once: storing it
   * again (a retried command) keeps the first, so the password a target was given is the one
   * kept. Answers whether this call wrote it.
   */
  async put(tx: SqlExecutor, secretId: string, version: number, plaintext: string): Promise<boolean> {
    const sealed = await seal(this.kek, Buffer.from(plaintext, 'utf8'), aadOf(secretId, version));
    const { rowCount } = await tx.query(
      `INSERT INTO ${this.schema}.vault_secrets (secret_id, version, kek_id, wrapped_key, iv, ciphertext, tag) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (secret_id, version) DO NOTHING`,
      [secretId, version, sealed.kekId, sealed.wrappedKey, sealed.iv, sealed.ciphertext, sealed.tag],
    );
    return rowCount > 0;
  }

  /** Opens a version of a secret; SecretMissing when there is none. */
  async reveal(secretId: string, version: number, x: SqlExecutor = this.db): Promise<string> {
    const { rows } = await x.query<SecretRow>(`SELECT * FROM ${this.schema}.vault_secrets WHERE secret_id = $1 AND version = $2`, [secretId, version]);
    if (rows.length === 0) throw new SecretMissing(secretId, version);
    return (await unseal(this.kek, sealedOf(rows[0]), aadOf(secretId, version))).toString('utf8');
  }

  /** Deletes the versions of a secret below `keepFrom` (all of them when absent) inside `tx`; answers how many went. */
  async delete(tx: SqlExecutor, secretId: string, keepFrom?: number): Promise<number> {
    const { rowCount } = await tx.query(`DELETE FROM ${this.schema}.vault_secrets WHERE secret_id = $1 AND version < $2`, [secretId, keepFrom ?? 2 ** 31 - 1]);
    return rowCount;
  }

  /**
   * Moves every data key not under the current key-encryption key to it, `batchSize` rows per
   * transaction, the ciphertexts untouched; answers how many were re-wrapped. Safe to run again
   * or beside another replica (rows are taken FOR UPDATE SKIP LOCKED).
   */
  async rewrapAll(batchSize = 200): Promise<number> {
    let total = 0;
    for (;;) {
      const done = await this.db.transaction(async (tx) => {
        const { rows } = await tx.query<SecretRow>(
          `SELECT * FROM ${this.schema}.vault_secrets WHERE kek_id <> $1 ORDER BY secret_id, version LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [this.kek.currentId, batchSize],
        );
        for (const row of rows) {
          const moved = await rewrap(this.kek, sealedOf(row));
          await tx.query(`UPDATE ${this.schema}.vault_secrets SET kek_id = $3, wrapped_key = $4 WHERE secret_id = $1 AND version = $2`, [
            row.secret_id,
            row.version,
            moved.kekId,
            moved.wrappedKey,
          ]);
        }
        return rows.length;
      });
      total += done;
      if (done < batchSize) return total;
    }
  }
}

function aadOf(secretId: string, version: number): string {
  return `custos-vault:${secretId}#${version}`;
}

function sealedOf(row: SecretRow): SealedSecret {
  return { kekId: row.kek_id, wrappedKey: Buffer.from(row.wrapped_key), iv: Buffer.from(row.iv), ciphertext: Buffer.from(row.ciphertext), tag: Buffer.from(row.tag) };
}
