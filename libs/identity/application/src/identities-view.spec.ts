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

describe('IdentitiesView', () => {
  describe('on PostgreSQL', () => {
    const pg = usePostgres('identities_view');

    it('projects a batch to the rows of one event at a time', async () => {
      await projectsBatchAsOneByOne(pg.db, pg.schema);
    });
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
