import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

export interface DirectoryEntry {
  employeeId: string;
  identityId: string;
  managerEmployeeId?: string;
  managerId?: string;
}

/**
 * The write side's index from HR employee ids to identity ids (and of reports awaiting their
 * manager). It is written in the same transaction as the identity's events, so it never
 * disagrees with them; the primary key makes two joiners for one employee impossible.
 */
export class EmployeeDirectory {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.employee_directory (
      employee_id text PRIMARY KEY, identity_id text NOT NULL UNIQUE, manager_employee_id text, manager_id text) WITH (fillfactor = 80)`);
    await x.query(`CREATE INDEX IF NOT EXISTS employee_directory_awaiting ON ${this.schema}.employee_directory (manager_employee_id) WHERE manager_id IS NULL`);
  }

  async byEmployeeId(tx: SqlExecutor, employeeId: string): Promise<DirectoryEntry | null> {
    const { rows } = await tx.query<Row>(`SELECT * FROM ${this.schema}.employee_directory WHERE employee_id = $1`, [employeeId]);
    return rows[0] ? toEntry(rows[0]) : null;
  }

  async byIdentityId(tx: SqlExecutor, identityId: string): Promise<DirectoryEntry | null> {
    const { rows } = await tx.query<Row>(`SELECT * FROM ${this.schema}.employee_directory WHERE identity_id = $1`, [identityId]);
    return rows[0] ? toEntry(rows[0]) : null;
  }

  /** Records where an identity stands; a rehire under a new employee id moves its entry. */
  async record(tx: SqlExecutor, entry: DirectoryEntry): Promise<void> {
    await tx.query(`DELETE FROM ${this.schema}.employee_directory WHERE identity_id = $1 AND employee_id <> $2`, [entry.identityId, entry.employeeId]);
    const { rowCount } = await tx.query(
      `INSERT INTO ${this.schema}.employee_directory (employee_id, identity_id, manager_employee_id, manager_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (employee_id) DO UPDATE SET manager_employee_id = EXCLUDED.manager_employee_id, manager_id = EXCLUDED.manager_id
       WHERE employee_directory.identity_id = EXCLUDED.identity_id`,
      [entry.employeeId, entry.identityId, entry.managerEmployeeId ?? null, entry.managerId ?? null],
    );
    // Another identity already holds this employee id (two joiners racing): refuse, roll back.
    if (rowCount === 0) throw new EmployeeIdTaken(entry.employeeId);
  }

  /** The entries of up to a few employees in one query (an employee and their manager), keyed by employee id. */
  async byEmployeeIds(tx: SqlExecutor, employeeIds: string[]): Promise<Map<string, DirectoryEntry>> {
    const { rows } = await tx.query<Row>(`SELECT * FROM ${this.schema}.employee_directory WHERE employee_id = ANY($1::text[])`, [employeeIds]);
    return new Map(rows.map((row) => [row.employee_id, toEntry(row)]));
  }

  /**
   * recordAndTakeAwaiting is `record` followed by a read of the reports awaiting that employee as their manager, in one
   * statement (one round trip instead of three on the HR hot path).
   */
  async recordAndTakeAwaiting(tx: SqlExecutor, entry: DirectoryEntry): Promise<DirectoryEntry[]> {
    return (await this.recordManyAndTakeAwaiting(tx, [entry])).get(entry.employeeId) ?? [];
  }

  /**
   * recordManyAndTakeAwaiting records several entries (distinct employees and identities) and
   * returns, per recorded employee id, the reports awaiting them as a manager, in one statement.
   * The reports are read as they stood before this statement, which never matters: an entry
   * recorded here is not awaiting anyone recorded in the same call (callers keep a manager and
   * their reports in separate calls). Throws EmployeeIdTaken if another identity holds one of the
   * employee ids.
   */
  async recordManyAndTakeAwaiting(tx: SqlExecutor, entries: DirectoryEntry[]): Promise<Map<string, DirectoryEntry[]>> {
    const awaitingBy = new Map<string, DirectoryEntry[]>();
    if (entries.length === 0) return awaitingBy;
    const d = `${this.schema}.employee_directory`;
    const { rows } = await tx.query<{ upserted: string[] | null; awaiting: Row[] | string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS i(employee_id, identity_id, manager_employee_id, manager_id)
       ), moved AS (
         DELETE FROM ${d} USING input WHERE ${d}.identity_id = input.identity_id AND ${d}.employee_id <> input.employee_id RETURNING 1
       ), upserted AS (
         -- Reading from "moved" makes the delete run first, so a moved entry frees its identity id.
         INSERT INTO ${d} (employee_id, identity_id, manager_employee_id, manager_id)
         SELECT input.* FROM input, (SELECT count(*) FROM moved) AS m
         ON CONFLICT (employee_id) DO UPDATE SET manager_employee_id = EXCLUDED.manager_employee_id, manager_id = EXCLUDED.manager_id
         WHERE employee_directory.identity_id = EXCLUDED.identity_id
         RETURNING employee_id
       )
       SELECT (SELECT array_agg(employee_id) FROM upserted) AS upserted,
         coalesce((SELECT json_agg(a ORDER BY a.employee_id) FROM ${d} a JOIN input ON a.manager_employee_id = input.employee_id
                   WHERE a.manager_id IS NULL AND a.employee_id <> input.employee_id), '[]'::json) AS awaiting`,
      [entries.map((e) => e.employeeId), entries.map((e) => e.identityId), entries.map((e) => e.managerEmployeeId ?? null), entries.map((e) => e.managerId ?? null)],
    );
    const upserted = new Set(rows[0].upserted ?? []);
    const refused = entries.find((e) => !upserted.has(e.employeeId));
    if (refused) throw new EmployeeIdTaken(refused.employeeId);
    const awaiting = typeof rows[0].awaiting === 'string' ? (JSON.parse(rows[0].awaiting) as Row[]) : rows[0].awaiting;
    for (const report of awaiting.map(toEntry)) {
      const list = awaitingBy.get(report.managerEmployeeId!) ?? [];
      list.push(report);
      awaitingBy.set(report.managerEmployeeId!, list);
    }
    return awaitingBy;
  }
}

interface Row {
  employee_id: string;
  identity_id: string;
  manager_employee_id: string | null;
  manager_id: string | null;
}

function toEntry(row: Row): DirectoryEntry {
  return { employeeId: row.employee_id, identityId: row.identity_id, managerEmployeeId: row.manager_employee_id ?? undefined, managerId: row.manager_id ?? undefined };
}

/** Two identities cannot share an HR employee id. */
export class EmployeeIdTaken extends Error {
  readonly code = 'employee-id-taken';
  readonly httpStatus = 409;

  constructor(readonly employeeId: string) {
    super(`employee ${employeeId} already has an identity`);
  }
}
