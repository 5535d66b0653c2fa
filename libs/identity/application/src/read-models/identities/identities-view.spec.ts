import { identityStreamId, sampleIdentitySnapshot, type IdentitySnapshot } from '@custos/identity/contracts';
import { createPgliteDatabase, NewEvent, SqlDatabase, SqlEventStore, SqlExecutor } from '@custos/platform/event-store';
import { usePostgres } from '@custos/platform/testing';
import { IdentitiesView } from './identities-view';

const snapshot = sampleIdentitySnapshot;
const changed = (name: string, identity: IdentitySnapshot): NewEvent => ({ name, data: { identityId: identity.identityId, identity }, actor: 'hr:workday' });
/** A change recorded without changing the identity: no snapshot. */
const superseded = (identityId: string): NewEvent => ({ name: 'IdentityChangeSuperseded', data: { identityId, change: { kind: 'terminate' } }, actor: 'hr:workday' });

/** Dee is in the view before the batch; then each identity's events, in stream order, interleaved. */
const before: Array<[string, NewEvent]> = [['dee', changed('IdentityHired', snapshot('dee', 'Sales'))]];
const batch: Array<[string, NewEvent]> = [
  ['ada', changed('IdentityHired', snapshot('ada', 'Engineering'))],
  ['bob', changed('IdentityHired', snapshot('bob', 'Engineering'))],
  ['ada', changed('IdentityMoved', snapshot('ada', 'Sales'))],
  ['bob', superseded('bob')],
  // Ada's newest snapshot is followed by a change without one: she keeps it, at version 3.
  ['ada', superseded('ada')],
  ['bob', changed('IdentityTerminated', snapshot('bob', 'Engineering', 'terminated'))],
  ['dee', superseded('dee')],
  // Only moves the version of an identity the view does not have: nothing.
  ['eve', superseded('eve')],
  ['cy', changed('IdentityHired', snapshot('cy', 'Research'))],
];

async function openView(db: SqlDatabase, schema: string) {
  const store = await SqlEventStore.open(db, { context: 'identity', schema });
  const view = new IdentitiesView(db, store, schema);
  await view.migrate();
  const errors: unknown[] = [];
  view.start((error) => errors.push(error));
  const versions = new Map<string, number>();
  const appendAll = async (events: Array<[string, NewEvent]>, tx?: SqlExecutor) => {
    for (const [identityId, event] of events) {
      const version = versions.get(identityId) ?? 0;
      await store.append(identityStreamId(identityId), [event], version === 0 ? 'no-stream' : version, { tx });
      versions.set(identityId, version + 1);
    }
  };
  /** Appends each event to its identity's stream; all in one transaction when `together`. */
  const append = (events: Array<[string, NewEvent]>, together: boolean) => (together ? db.transaction((tx) => appendAll(events, tx)) : appendAll(events));
  return {
    view,
    append,
    async rows() {
      const { rows } = await db.query<{ identity_id: string; department: string | null; status: string; version: number; snapshot: IdentitySnapshot | string }>(`SELECT identity_id, employee_id, email, department, status, snapshot, version FROM ${schema}.identities ORDER BY identity_id`);
      return rows.map((row) => ({ ...row, snapshot: typeof row.snapshot === 'string' ? JSON.parse(row.snapshot) : row.snapshot }));
    },
    async close() {
      await view.stop();
      await store.close();
      expect(errors).toEqual([]);
    },
  };
}

/** The same events projected one at a time and as one batch give the same rows, the newest snapshot at the newest version. */
async function projectsBatchAsOneByOne(db: SqlDatabase, schema: string): Promise<void> {
  const oneByOne = await openView(db, `${schema}_one`);
  const batched = await openView(db, `${schema}_batch`);
  try {
    for (const event of [...before, ...batch]) {
      await oneByOne.append([event], false);
      await oneByOne.view.caughtUp();
    }
    await batched.append(before, false);
    await batched.view.caughtUp();
    // Committed together, the events reach the view in one batch.
    await batched.append(batch, true);
    await batched.view.caughtUp();

    const rows = await batched.rows();
    expect(rows).toEqual(await oneByOne.rows());
    expect(rows.map((r) => [r.identity_id, r.department, r.status, r.version])).toEqual([
      ['ada', 'Sales', 'active', 3],
      ['bob', 'Engineering', 'terminated', 3],
      ['cy', 'Research', 'active', 1],
      ['dee', 'Sales', 'active', 2],
    ]);
    expect(await batched.view.get('ada')).toEqual({ ...snapshot('ada', 'Sales'), version: 3 });
  } finally {
    await oneByOne.close();
    await batched.close();
  }
}

/** An event recorded by a system; `identity` without systemOfRecord is one recorded before snapshots named it. */
const fromSystem = (name: string, identity: IdentitySnapshot, system: string): NewEvent => ({ name, data: { identityId: identity.identityId, identity, source: { system, channel: 'webhook' } }, actor: `hr:${system}` });

describe('IdentitiesView', () => {
  describe('on PostgreSQL', () => {
    const pg = usePostgres('identities_view');

    it('projects a batch to the rows of one event at a time', async () => {
      await projectsBatchAsOneByOne(pg.db, pg.schema);
    }, 60_000);

    it("shows each identity's system of record, from its snapshot or an old hire's source, and lists by it", async () => {
      const view = await openView(pg.db, pg.schema);
      try {
        await view.append(
          [
            // Recorded before snapshots named the system: the hire's source names it.
            ['ada', fromSystem('IdentityHired', snapshot('ada', 'Engineering'), 'workday')],
            ['ada', fromSystem('IdentityMoved', snapshot('ada', 'Sales'), 'csv')],
            ['bob', fromSystem('IdentityHired', { ...snapshot('bob', 'Sales'), systemOfRecord: 'csv' }, 'csv')],
            ['bob', fromSystem('IdentityTerminated', { ...snapshot('bob', 'Sales', 'terminated'), systemOfRecord: 'csv' }, 'csv')],
            // A rehire by another system begins a new employment: that system is now the system of record.
            ['bob', fromSystem('IdentityRehired', { ...snapshot('bob', 'Sales'), systemOfRecord: 'workday' }, 'workday')],
            ['cy', fromSystem('IdentityHired', { ...snapshot('cy', 'Research'), systemOfRecord: 'csv' }, 'csv')],
          ],
          true,
        );
        await view.view.caughtUp();
        // and a later old-style event, in a batch of its own, keeps the row's system
        await view.append([['ada', fromSystem('IdentityMoved', snapshot('ada', 'Finance'), 'csv')]], false);
        await view.view.caughtUp();
        expect(await view.view.get('ada')).toEqual({ ...snapshot('ada', 'Finance'), systemOfRecord: 'workday', version: 3 });
        expect((await view.view.get('bob'))?.systemOfRecord).toBe('workday');
        const ids = async (system: string) => (await view.view.list({ system, limit: 10 })).items.map((i) => [i.identityId, i.systemOfRecord]);
        expect(await ids('workday')).toEqual([['ada', 'workday'], ['bob', 'workday']]);
        expect(await ids('csv')).toEqual([['cy', 'csv']]);
      } finally {
        await view.close();
      }
    }, 60_000);

    it('rebuilds a table from before the system of record was kept, by replay', async () => {
      const store = await SqlEventStore.open(pg.db, { context: 'identity', schema: pg.schema });
      await store.append(identityStreamId('ada'), [fromSystem('IdentityHired', snapshot('ada', 'Engineering'), 'workday')], 'no-stream');
      await store.close();
      // The first version's table, with a row and no system_of_record column.
      await pg.db.query(`CREATE TABLE ${pg.schema}.identities (identity_id text PRIMARY KEY, employee_id text NOT NULL, email text NOT NULL, department text, status text NOT NULL, snapshot jsonb NOT NULL, version int NOT NULL)`);
      await pg.db.query(`INSERT INTO ${pg.schema}.identities VALUES ('ada', 'E-ada', 'ada@example.com', 'Engineering', 'active', $1::jsonb, 1)`, [JSON.stringify(snapshot('ada', 'Engineering'))]);
      const view = await openView(pg.db, pg.schema);
      try {
        await view.view.caughtUp();
        expect(await view.view.get('ada')).toEqual({ ...snapshot('ada', 'Engineering'), systemOfRecord: 'workday', version: 1 });
        // migrating again keeps the rebuilt table
        await view.view.migrate();
        expect((await view.view.list({ system: 'workday', limit: 10 })).items.map((i) => i.identityId)).toEqual(['ada']);
      } finally {
        await view.close();
      }
    }, 60_000);
  });

  describe('on PGlite', () => {
    it('projects a batch to the rows of one event at a time', async () => {
      const db = await createPgliteDatabase();
      try {
        await projectsBatchAsOneByOne(db, 'identity');
      } finally {
        await db.close();
      }
    }, 60_000);
  });
});
