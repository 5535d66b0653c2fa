import { createHash } from 'node:crypto';
import { escapeIdentifier, escapeLiteral, Pool, type PoolClient } from 'pg';
import { ConnectorError, type Connector, type NewAccount, type TargetAccess } from './connector';
import { scramSha256Verifier } from './scram';

/** PostgreSQL error codes the connector answers by name. */
const DUPLICATE_OBJECT = '42710';
const UNDEFINED_OBJECT = '42704';

/** The comment that marks a role as one Custos made for a target: listAccounts returns only these. */
function marker(target: TargetAccess): string {
  return `custos:jit:${target.key}`;
}

/**
 * PostgresConnector manages login roles on a PostgreSQL server with `pg`, over a small pool per
 * target and admin credential. Passwords travel as SCRAM-SHA-256 verifiers, never in clear.
 * Identifiers and literals are escaped by the driver's escapeIdentifier/escapeLiteral (DDL takes
 * no bind parameters). Ending an account disables it first (NOLOGIN), so no new session starts,
 * then ends its sessions with pg_terminate_backend and waits for each to be gone, then drops it:
 * a dropped role keeps no connection that still works.
 */
export class PostgresConnector implements Connector {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: { connectTimeoutMs?: number; statementTimeoutMs?: number; terminateWaitMs?: number } = {}) {}

  async verify(target: TargetAccess): Promise<void> {
    await this.withClient(target, async (client) => {
      const { rows } = await client.query<{ rolsuper: boolean; rolcreaterole: boolean }>('SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user');
      if (!rows[0]?.rolsuper && !rows[0]?.rolcreaterole) throw new ConnectorError(`${target.adminUsername} may not create roles (it needs CREATEROLE)`);
    });
  }

  async createAccount(target: TargetAccess, account: NewAccount): Promise<void> {
    const role = escapeIdentifier(account.username);
    const options = `LOGIN PASSWORD ${escapeLiteral(scramSha256Verifier(account.password))} VALID UNTIL ${escapeLiteral(account.validUntil ?? 'infinity')}`;
    await this.withClient(target, async (client) => {
      await client.query('BEGIN');
      try {
        await client.query('SAVEPOINT create_role');
        try {
          await client.query(`CREATE ROLE ${role} ${options} IN ROLE ${escapeIdentifier(account.memberOf)}`);
        } catch (error) {
          if ((error as { code?: string }).code !== DUPLICATE_OBJECT) throw error;
          // Made before (a job run again after a crash): set it as asked now.
          await client.query('ROLLBACK TO SAVEPOINT create_role');
          await client.query(`ALTER ROLE ${role} ${options}`);
          await client.query(`GRANT ${escapeIdentifier(account.memberOf)} TO ${role}`);
        }
        await client.query(`COMMENT ON ROLE ${role} IS ${escapeLiteral(marker(target))}`);
        await this.mayManage(client, account.username);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async extendAccount(target: TargetAccess, username: string, validUntil: string): Promise<void> {
    await this.withClient(target, (client) => client.query(`ALTER ROLE ${escapeIdentifier(username)} VALID UNTIL ${escapeLiteral(validUntil)}`));
  }

  async rotatePassword(target: TargetAccess, username: string, password: string): Promise<void> {
    await this.withClient(target, (client) => client.query(`ALTER ROLE ${escapeIdentifier(username)} PASSWORD ${escapeLiteral(scramSha256Verifier(password))}`));
  }

  async dropAccount(target: TargetAccess, username: string): Promise<{ sessionsTerminated: number }> {
    return this.withClient(target, async (client) => {
      const role = escapeIdentifier(username);
      try {
        await client.query(`ALTER ROLE ${role} NOLOGIN`);
      } catch (error) {
        if ((error as { code?: string }).code === UNDEFINED_OBJECT) return { sessionsTerminated: await this.terminate(client, username) };
        throw error;
      }
      await this.mayManage(client, username);
      const sessionsTerminated = await this.terminate(client, username);
      // What the role owns or was granted in this database goes with it; a role owning objects elsewhere is not dropped (an error, retried).
      await client.query(`DROP OWNED BY ${role}`);
      await client.query(`DROP ROLE IF EXISTS ${role}`);
      return { sessionsTerminated };
    });
  }

  async terminateSessions(target: TargetAccess, username: string): Promise<number> {
    return this.withClient(target, async (client) => {
      await this.mayManage(client, username);
      return this.terminate(client, username);
    });
  }

  async listAccounts(target: TargetAccess, prefix: string): Promise<string[]> {
    return this.withClient(target, async (client) => {
      const { rows } = await client.query<{ rolname: string }>(
        `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) AND shobj_description(oid, 'pg_authid') = $2 ORDER BY rolname`,
        [prefix, marker(target)],
      );
      return rows.map((row) => row.rolname);
    });
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }

  /**
   * An admin that is no superuser (CREATEROLE only, as it should be) may end a role's sessions
   * (pg_terminate_backend) and drop what it owns (DROP OWNED) only as a member of it: it makes
   * itself one. PostgreSQL 16 gives a role's creator ADMIN OPTION on it, which allows the grant;
   * 15 and older let CREATEROLE grant it. A superuser needs nothing.
   */
  private async mayManage(client: PoolClient, username: string): Promise<void> {
    const { rows } = await client.query<{ rolsuper: boolean; member: boolean }>(
      `SELECT r.rolsuper, pg_has_role(current_user, $1, 'USAGE') AS member FROM pg_roles r WHERE r.rolname = current_user`,
      [username],
    );
    if (rows[0]?.rolsuper || rows[0]?.member) return;
    await client.query(`GRANT ${escapeIdentifier(username)} TO CURRENT_USER`);
  }

  /** Ends every session of `username` and waits (up to terminateWaitMs each) until it is gone; answers how many ended. */
  private async terminate(client: PoolClient, username: string): Promise<number> {
    const { rows } = await client.query<{ ended: string }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $2)) AS ended FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`,
      [username, this.options.terminateWaitMs ?? 5000],
    );
    return Number(rows[0]?.ended ?? 0);
  }

  private async withClient<R>(target: TargetAccess, work: (client: PoolClient) => Promise<R>): Promise<R> {
    let client: PoolClient;
    try {
      client = await this.pool(target).connect();
    } catch (error) {
      throw asConnectorError(error, target);
    }
    try {
      return await work(client);
    } catch (error) {
      throw asConnectorError(error, target);
    } finally {
      client.release();
    }
  }

  /** One small pool per target and admin credential: a changed credential gets a pool of its own. */
  private pool(target: TargetAccess): Pool {
    const id = createHash('sha256').update(JSON.stringify([target.host, target.port, target.database, target.adminUsername, target.adminPassword])).digest('hex');
    let pool = this.pools.get(id);
    if (!pool) {
      pool = new Pool({
        host: target.host,
        port: target.port,
        database: target.database,
        user: target.adminUsername,
        password: target.adminPassword,
        max: 4,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5000,
        statement_timeout: this.options.statementTimeoutMs ?? 15_000,
        application_name: 'custos-privileged',
      });
      // An idle connection the server closed must not crash the process.
      pool.on('error', () => undefined);
      this.pools.set(id, pool);
    }
    return pool;
  }
}

/** The target's or the network's reason, with the password (should a driver ever echo it) taken out. */
function asConnectorError(error: unknown, target: TargetAccess): ConnectorError {
  if (error instanceof ConnectorError) return error;
  const err = error as { message?: string; code?: string };
  let reason = err.message || err.code || 'the target failed';
  if (target.adminPassword.length > 0) reason = reason.split(target.adminPassword).join('***');
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'ETIMEDOUT' || err.code === 'EHOSTUNREACH') reason = `${target.host}:${target.port} cannot be reached (${err.code})`;
  return new ConnectorError(reason, err.code);
}
