import { randomBytes } from 'node:crypto';
import { createPgDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase, type TestDatabase } from './postgres';

export interface PostgresFixture {
  /** The file's pool on its own database. */
  readonly db: SqlDatabase;
  /** A fresh schema name for the current test, so tests of one file never see each other's tables. */
  readonly schema: string;
  /** The database's URL, for a second pool (another process, another replica). */
  readonly url: string;
}

/**
 * usePostgres gives a spec file its own database and pool (made before its tests, dropped after
 * them) and each test a fresh schema name: the jest lifecycle that the store-backed specs share.
 */
export function usePostgres(prefix: string, options: { max?: number } = {}): PostgresFixture {
  let database: TestDatabase | undefined;
  let db: SqlDatabase | undefined;
  let schema = '';
  beforeAll(async () => {
    database = await createTestDatabase(`custos_${prefix}`);
    db = createPgDatabase(database.url, { max: options.max ?? 10, applicationName: `${prefix}-spec` });
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  }, 60_000);
  beforeEach(() => {
    schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  });
  return {
    get db() {
      if (!db) throw new Error('usePostgres: the database is made in beforeAll');
      return db;
    },
    get schema() {
      return schema;
    },
    get url() {
      if (!database) throw new Error('usePostgres: the database is made in beforeAll');
      return database.url;
    },
  };
}
