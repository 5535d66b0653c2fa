import { randomUUID } from 'node:crypto';
import { identityStreamId, type IdentityEvent } from '@custos/identity/contracts';
import { identityDecider, IdentityNotFound, type IdentityCommand, type IdentityState } from '@custos/identity/domain';
import type { SqlExecutor, StreamWrite } from '@custos/platform/event-store';
import { foldStream, GroupCommit, settle, toNewEvents, type ContextRuntime, type DurableScheduler, type Settled } from '@custos/platform/runtime';
import { HrChange, HrOutcome, ReceivedHrChange } from './hr-change';
import { DirectoryEntry, EmployeeDirectory, EmployeeIdTaken } from './employee-directory';
import { CommandMeta, handleIdentityCommand } from './identity-store';

/** What a door that addresses identities by id adds to a change (see HrIntake.receiveForIdentity). */
export interface IntakeForIdentity {
  correlationId?: string;
  /** Runs first in the transaction: a precondition that throws leaves nothing written. */
  before?: (tx: SqlExecutor) => Promise<void>;
  /** Runs last in the same transaction: the door's own records commit with the changes or not at all. */
  after?: (tx: SqlExecutor, outcomes: HrOutcome[]) => Promise<void>;
}

export const SCHEDULED_HR_CHANGE = 'hr-change';
export const SCHEDULED_ACTIVATION = 'identity-activation';

/** Most HR changes applied in one group-commit transaction. */
const MAX_GROUP = 64;

/** The dedupe key of a change: its (system, eventId). */
const dedupeKey = (system: string, eventId: string) => `${system}\u0000${eventId}`;

interface Received {
  change: HrChange;
  correlationId: string;
}

/** A change of a group that claimed its dedupe record, on its way through the group's transaction. */
interface InGroup extends Received {
  index: number;
  identityId: string;
  /** The identity id was minted now: its stream is empty. */
  newIdentity: boolean;
  managerId?: string;
  state: IdentityState;
  version: number;
  events: IdentityEvent[];
  status: 'applied' | 'scheduled';
}

/**
 * HrIntake applies HR changes from every door: once per (system, eventId), in one transaction
 * with the dedupe record, so a crash, a redelivery or two identical requests at once never apply
 * a change twice or half. Future-dated changes wait in the durable scheduler.
 */
export class HrIntake {
  private readonly group = new GroupCommit<Received, HrOutcome>((items) => this.receiveGroup(items), { maxBatch: MAX_GROUP });

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: EmployeeDirectory,
    private readonly scheduler: DurableScheduler,
  ) {}

  async migrate(x: SqlExecutor = this.runtime.db): Promise<void> {
    const s = this.runtime.store.context;
    await x.query(`CREATE TABLE IF NOT EXISTS ${s}.hr_inbox (
      system text NOT NULL, event_id text NOT NULL, identity_id text, status text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (system, event_id)) WITH (fillfactor = 80)`);
  }

  /**
   * Receives one change: records it, then applies it now or schedules it for its effective time.
   * A change without `effectiveAt` takes effect when received: it gets the clock's time here,
   * before it waits for a group. Its dedupe key stays (system, eventId), so a repeat of it is a
   * duplicate whatever time the repeat arrives at.
   * Changes received while an earlier group is being written are applied together in the next
   * group's single transaction (group commit), with the same outcome each would have had alone.
   */
  async receive(change: ReceivedHrChange, meta: { correlationId?: string } = {}): Promise<HrOutcome> {
    const dated: HrChange = typeof change.effectiveAt === 'string' ? (change as HrChange) : { ...change, effectiveAt: this.runtime.clock().toISOString() };
    return this.group.submit({ change: dated, correlationId: meta.correlationId ?? randomUUID() });
  }

  /** One change in a transaction of its own: the path of every change a group cannot take. */
  private receiveAlone(item: Received): Promise<HrOutcome> {
    return this.runtime.db.transaction((tx) => this.claimAndAccept(tx, item.change, item.correlationId));
  }

  /**
   * receiveGroup applies a group of changes in one transaction with a constant number of
   * statements: claim every dedupe record, read every directory entry and stream, decide in
   * memory, then append to every stream, record every directory entry and settle every dedupe
   * record at once. A change that the domain refuses gets its error and leaves nothing behind;
   * its neighbours are applied. A change touching an employee that an earlier change of the
   * group touches waits for the group and runs alone, as does the whole group if the database
   * refuses its transaction (a concurrent writer took a version, say): the outcome is always
   * the one the change would have had alone.
   */
  private async receiveGroup(items: Received[]): Promise<Array<Settled<HrOutcome>>> {
    const together: Array<Received & { index: number }> = [];
    const alone: number[] = [];
    const keys = new Set<string>();
    const employees = new Set<string>();
    const managers = new Set<string>();
    items.forEach((item, index) => {
      const { employeeId, managerEmployeeId } = item.change.employee;
      const key = dedupeKey(item.change.system, item.change.eventId);
      const entangled = keys.has(key) || employees.has(employeeId) || managers.has(employeeId) || (managerEmployeeId !== undefined && employees.has(managerEmployeeId));
      if (entangled) return alone.push(index);
      keys.add(key);
      employees.add(employeeId);
      if (managerEmployeeId) managers.add(managerEmployeeId);
      together.push({ ...item, index });
    });
    const settled: Array<Settled<HrOutcome>> = new Array(items.length);
    try {
      const outcomes = await this.runtime.db.transaction((tx) => this.acceptGroup(tx, together));
      together.forEach((item, i) => (settled[item.index] = outcomes[i]));
    } catch (error) {
      this.runtime.logger.debug({ err: error, changes: together.length }, 'HR group refused by the database; applying its changes one by one');
      for (const item of together) settled[item.index] = await settle(() => this.receiveAlone(item));
    }
    for (const index of alone) settled[index] = await settle(() => this.receiveAlone(items[index]));
    return settled;
  }

  private async acceptGroup(tx: SqlExecutor, items: Array<Received & { index: number }>): Promise<Array<Settled<HrOutcome>>> {
    const schema = this.runtime.store.context;
    const now = this.runtime.clock();
    const outcomes: Array<Settled<HrOutcome>> = new Array(items.length);
    const position = new Map(items.map((item, i) => [item.index, i]));

    // Every employee and manager in one read, before anything is claimed: a change then claims its
    // dedupe record already holding the identity it is about and the outcome it will most likely
    // have ('applied'), and only the changes that end otherwise are settled again at the end.
    const people = items.flatMap(({ change: { employee } }) => (employee.managerEmployeeId ? [employee.employeeId, employee.managerEmployeeId] : [employee.employeeId]));
    const entries = await this.directory.byEmployeeIds(tx, [...new Set(people)]);
    const identityOf = new Map(items.map((item) => [item.index, entries.get(item.change.employee.employeeId)?.identityId ?? randomUUID()]));

    // Claim every dedupe record; the primary key makes an identical change in flight elsewhere wait for it.
    const { rows: claimedRows } = await tx.query<{ system: string; event_id: string }>(
      `INSERT INTO ${schema}.hr_inbox (system, event_id, identity_id, status) SELECT s, e, id, 'applied' FROM unnest($1::text[], $2::text[], $3::text[]) AS k(s, e, id)
       ON CONFLICT DO NOTHING RETURNING system, event_id`,
      [items.map((i) => i.change.system), items.map((i) => i.change.eventId), items.map((i) => identityOf.get(i.index)!)],
    );
    const claimed = new Set(claimedRows.map((r) => dedupeKey(r.system, r.event_id)));
    const duplicates = items.filter((i) => !claimed.has(dedupeKey(i.change.system, i.change.eventId)));
    if (duplicates.length > 0) {
      const { rows } = await tx.query<{ system: string; event_id: string; identity_id: string }>(
        `SELECT h.system, h.event_id, h.identity_id FROM ${schema}.hr_inbox h JOIN unnest($1::text[], $2::text[]) AS k(s, e) ON h.system = k.s AND h.event_id = k.e`,
        [duplicates.map((i) => i.change.system), duplicates.map((i) => i.change.eventId)],
      );
      const seen = new Map(rows.map((r) => [dedupeKey(r.system, r.event_id), r.identity_id]));
      for (const d of duplicates) outcomes[position.get(d.index)!] = { ok: true, value: { identityId: seen.get(dedupeKey(d.change.system, d.change.eventId))!, status: 'duplicate' } };
    }
    const fresh = items.filter((i) => claimed.has(dedupeKey(i.change.system, i.change.eventId)));
    const refuse = (item: Received & { index: number }, error: unknown) => (outcomes[position.get(item.index)!] = { ok: false, error });

    // Reports whose manager is missing (and joiners, who may be such a manager) take the manager
    // slot locks, then look for the missing managers again.
    const missing = [...new Set(fresh.map((i) => i.change.employee.managerEmployeeId).filter((m): m is string => m !== undefined && !entries.has(m)))];
    const joining = fresh.filter((i) => i.change.type === 'joiner' || i.change.type === 'rehire').map((i) => i.change.employee.employeeId);
    await this.lockManagerSlots(tx, [...missing, ...joining]);
    if (missing.length > 0) for (const [id, entry] of await this.directory.byEmployeeIds(tx, missing)) entries.set(id, entry);

    // Who each change is about; then every stream it touches in one read.
    const live: InGroup[] = [];
    for (const item of fresh) {
      const { type, employee } = item.change;
      const known = entries.get(employee.employeeId);
      if (!known && type !== 'joiner') {
        refuse(item, new IdentityNotFound(`employee ${employee.employeeId}`));
        continue;
      }
      const managerId = employee.managerEmployeeId ? entries.get(employee.managerEmployeeId)?.identityId : undefined;
      live.push({ ...item, identityId: identityOf.get(item.index)!, newIdentity: !known, managerId, state: identityDecider.initialState(), version: 0, events: [], status: 'applied' });
    }
    const streams = await this.runtime.store.readStreams(
      live.filter((g) => !g.newIdentity).map((g) => identityStreamId(g.identityId)),
      { tx },
    );
    const isFuture = (change: HrChange) => Date.parse(change.effectiveAt) > now.getTime();
    // A later HR change supersedes one still waiting for its date.
    await this.scheduler.cancelMany(tx, live.filter((g) => g.change.type !== 'joiner').map((g) => `hr:${g.identityId}`));

    // Decide in memory; a refusal settles that change alone.
    const decided: InGroup[] = [];
    for (const g of live) {
      const stored = streams.get(identityStreamId(g.identityId)) ?? [];
      g.state = foldStream(identityDecider, stored);
      g.version = stored.length;
      if (g.change.type !== 'joiner' && isFuture(g.change)) {
        await this.scheduleChange(tx, g.change, g.identityId, g.correlationId);
        g.status = 'scheduled';
        decided.push(g);
        continue;
      }
      try {
        g.events = identityDecider.decide(this.commandFor(g.change, g.identityId, g.managerId, now.toISOString()), g.state);
      } catch (error) {
        refuse(g, error);
        continue;
      }
      g.state = g.events.reduce(identityDecider.evolve, g.state);
      decided.push(g);
    }

    // Write it all: the events of every stream, the directory, activations of future joiners.
    const writes: StreamWrite[] = decided
      .filter((g) => g.events.length > 0)
      .map((g) => ({ streamId: identityStreamId(g.identityId), events: toNewEvents(g.events, this.metaOf(g)), expectedVersion: g.version === 0 ? 'no-stream' : g.version }));
    await this.runtime.store.appendStreams(writes, { tx });
    const recorded = decided.flatMap((g) => (g.status === 'applied' && g.state.kind !== 'NoIdentity' ? [{ g, identity: g.state.identity }] : []));
    // An entry the change leaves as it was is not written again (most movers, every leaver): no
    // report can be awaiting an employee who was already in the directory. Joiners and rehires
    // are always recorded, as they are the arrivals that reports may be waiting for.
    const toRecord = recorded
      .map(({ g, identity }) => ({ type: g.change.type, entry: { employeeId: identity.employeeId, identityId: g.identityId, managerEmployeeId: identity.managerEmployeeId, managerId: identity.managerId } }))
      .filter(({ type, entry }) => type === 'joiner' || type === 'rehire' || !sameEntry(entries.get(entry.employeeId), entry));
    const awaiting = await this.directory.recordManyAndTakeAwaiting(tx, toRecord.map(({ entry }) => entry));
    for (const { g, identity } of recorded) {
      await this.linkReports(tx, awaiting.get(identity.employeeId) ?? [], g.identityId, identity.employeeId, this.metaOf(g), now.toISOString());
      if (g.change.type === 'joiner' && isFuture(g.change)) {
        await this.scheduleActivation(tx, g.change, g.identityId, g.correlationId);
        g.status = 'scheduled';
      }
    }

    // Settle the dedupe records that were claimed as 'applied' but ended otherwise: the scheduled
    // get their status, the refused leave no trace. Usually there are none.
    const refused = fresh.filter((i) => outcomes[position.get(i.index)!] !== undefined);
    const scheduled = decided.filter((g) => g.status !== 'applied');
    if (refused.length > 0 || scheduled.length > 0) {
      await tx.query(
        `WITH done AS (
           UPDATE ${schema}.hr_inbox h SET status = u.status FROM unnest($1::text[], $2::text[], $3::text[]) AS u(s, e, status)
           WHERE h.system = u.s AND h.event_id = u.e RETURNING 1
         ), dropped AS (
           DELETE FROM ${schema}.hr_inbox h USING unnest($4::text[], $5::text[]) AS r(s, e) WHERE h.system = r.s AND h.event_id = r.e RETURNING 1
         )
         SELECT (SELECT count(*) FROM done) AS done, (SELECT count(*) FROM dropped) AS dropped`,
        [
          scheduled.map((g) => g.change.system),
          scheduled.map((g) => g.change.eventId),
          scheduled.map((g) => g.status),
          refused.map((i) => i.change.system),
          refused.map((i) => i.change.eventId),
        ],
      );
    }
    for (const g of decided) outcomes[position.get(g.index)!] = { ok: true, value: { identityId: g.identityId, status: g.status } };
    return outcomes;
  }

  private metaOf(item: Received): CommandMeta {
    return { actor: `hr:${item.change.system}`, correlationId: item.correlationId };
  }

  /**
   * receiveForIdentity applies changes to an identity that the door addresses by id (a SCIM
   * User is an identity): in order, in one transaction with their dedupe records and the
   * door's own writes, so that all of them commit or none. A joiner creates the identity under
   * that id; the other changes apply to it whatever employee id it has.
   */
  async receiveForIdentity(identityId: string, changes: HrChange[], options: IntakeForIdentity = {}): Promise<HrOutcome[]> {
    const correlationId = options.correlationId ?? randomUUID();
    return this.runtime.db.transaction(async (tx) => {
      await options.before?.(tx);
      const outcomes: HrOutcome[] = [];
      for (const change of changes) outcomes.push(await this.claimAndAccept(tx, change, correlationId, identityId));
      await options.after?.(tx, outcomes);
      return outcomes;
    });
  }

  private async claimAndAccept(tx: SqlExecutor, change: HrChange, correlationId: string, identityId?: string): Promise<HrOutcome> {
    const schema = this.runtime.store.context;
    // The primary key serialises identical concurrent requests: the second waits, then sees the first.
    const claimed = await tx.query(`INSERT INTO ${schema}.hr_inbox (system, event_id, status) VALUES ($1, $2, 'received') ON CONFLICT DO NOTHING`, [
      change.system,
      change.eventId,
    ]);
    if (claimed.rowCount === 0) {
      const { rows } = await tx.query<{ identity_id: string }>(`SELECT identity_id FROM ${schema}.hr_inbox WHERE system = $1 AND event_id = $2`, [change.system, change.eventId]);
      return { identityId: rows[0].identity_id, status: 'duplicate' as const };
    }
    const outcome = await this.accept(tx, change, { actor: `hr:${change.system}`, correlationId }, identityId);
    await tx.query(`UPDATE ${schema}.hr_inbox SET identity_id = $3, status = $4 WHERE system = $1 AND event_id = $2`, [
      change.system,
      change.eventId,
      outcome.identityId,
      outcome.status,
    ]);
    return outcome;
  }

  private async accept(tx: SqlExecutor, change: HrChange, meta: CommandMeta, resolvedId?: string): Promise<HrOutcome> {
    const now = this.runtime.clock();
    // The employee and their manager in one query: the manager is needed when the change applies now.
    const { employeeId, managerEmployeeId } = change.employee;
    const entries = await this.directory.byEmployeeIds(tx, managerEmployeeId ? [employeeId, managerEmployeeId] : [employeeId]);
    const byEmployee = entries.get(employeeId) ?? null;
    const prefetched = { manager: managerEmployeeId ? (entries.get(managerEmployeeId) ?? null) : null };
    if (resolvedId !== undefined && change.type === 'joiner' && byEmployee && byEmployee.identityId !== resolvedId) throw new EmployeeIdTaken(change.employee.employeeId);
    const known = resolvedId !== undefined ? { identityId: resolvedId } : byEmployee;
    if (change.type === 'joiner') {
      // A joiner always creates its identity at once (pending until its start), so that the
      // employee exists for lookups, SCIM and managers; activation waits for the start date.
      const identityId = known?.identityId ?? randomUUID();
      await this.apply(tx, change, identityId, meta, { ...prefetched, newIdentity: !known });
      if (Date.parse(change.effectiveAt) > now.getTime()) {
        await this.scheduleActivation(tx, change, identityId, meta.correlationId);
        return { identityId, status: 'scheduled' };
      }
      return { identityId, status: 'applied' };
    }
    if (!known) throw new IdentityNotFound(`employee ${change.employee.employeeId}`);
    // A later HR change for the same employee supersedes a change still waiting for its date.
    await this.scheduler.cancel(tx, `hr:${known.identityId}`);
    if (Date.parse(change.effectiveAt) > now.getTime()) {
      await this.scheduleChange(tx, change, known.identityId, meta.correlationId);
      return { identityId: known.identityId, status: 'scheduled' };
    }
    await this.apply(tx, change, known.identityId, meta, prefetched);
    return { identityId: known.identityId, status: 'applied' };
  }

  /**
   * Applies a change now (also called by the scheduler when a future-dated change falls due).
   * `prefetched` is what the caller already read in this transaction: the manager's directory
   * entry, and whether the identity id was minted just now (so its stream is known to be empty).
   */
  async apply(tx: SqlExecutor, change: HrChange, identityId: string, meta: CommandMeta, prefetched?: { manager: DirectoryEntry | null; newIdentity?: boolean }): Promise<void> {
    const now = this.runtime.clock().toISOString();
    const managerEmployeeId = change.employee.managerEmployeeId;
    let managerEntry = prefetched ? prefetched.manager : managerEmployeeId ? await this.directory.byEmployeeId(tx, managerEmployeeId) : null;
    if (managerEmployeeId && !managerEntry) {
      // The manager may be joining at this very moment: wait for their transaction, then look again,
      // so that either we see them or they see us waiting (see lockManagerSlots).
      await this.lockManagerSlots(tx, [managerEmployeeId]);
      managerEntry = await this.directory.byEmployeeId(tx, managerEmployeeId);
    }
    const managerId = change.employee.managerEmployeeId ? managerEntry?.identityId : undefined;
    const command = this.commandFor(change, identityId, managerId, now);
    const { state } = await handleIdentityCommand(this.runtime.store, tx, command, meta, { newStream: prefetched?.newIdentity === true });
    if (state.kind === 'NoIdentity') return;
    // Only a joiner or a rehire brings an employee id that reports may be waiting for.
    if (change.type === 'joiner' || change.type === 'rehire') await this.lockManagerSlots(tx, [state.identity.employeeId]);
    const awaiting = await this.directory.recordAndTakeAwaiting(tx, {
      employeeId: state.identity.employeeId,
      identityId,
      managerEmployeeId: state.identity.managerEmployeeId,
      managerId: state.identity.managerId,
    });
    await this.linkReports(tx, awaiting, identityId, state.identity.employeeId, meta, now);
  }

  /** The command an HR change means for an identity. */
  private commandFor(change: HrChange, identityId: string, managerId: string | undefined, now: string): IdentityCommand {
    const source = { system: change.system, eventId: change.eventId, channel: change.channel };
    const base = { identityId, effectiveAt: change.effectiveAt, now, source };
    return change.type === 'joiner'
      ? { type: 'HireIdentity', data: { ...base, employee: change.employee, managerId, groups: change.groups } }
      : change.type === 'mover'
        ? { type: 'MoveIdentity', data: { ...base, employee: change.employee, managerId } }
        : change.type === 'rehire'
          ? { type: 'RehireIdentity', data: { ...base, employee: change.employee, managerId, groups: change.groups } }
          : { type: 'TerminateIdentity', data: base };
  }

  /** Reports who arrived before their manager are linked now that the manager exists. */
  private async linkReports(tx: SqlExecutor, reports: DirectoryEntry[], managerId: string, managerEmployeeId: string, meta: CommandMeta, now: string): Promise<void> {
    for (const report of reports) {
      const linked = await handleIdentityCommand(this.runtime.store, tx, { type: 'LinkManager', data: { identityId: report.identityId, managerId, managerEmployeeId, now } }, meta);
      if (linked.state.kind !== 'NoIdentity') await this.directory.record(tx, { ...report, managerId });
    }
  }

  /**
   * lockManagerSlots serialises a report that finds no manager with that manager's own joiner:
   * without it, both could commit unseen by each other and the report would never be linked.
   * The locks live until the transaction ends; several are taken in one order (sorted), so that
   * two transactions never wait for each other.
   */
  private async lockManagerSlots(tx: SqlExecutor, managerEmployeeIds: string[]): Promise<void> {
    if (managerEmployeeIds.length === 0) return;
    const slots = [...new Set(managerEmployeeIds)].sort();
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('custos:manager:' || k)) FROM unnest($1::text[]) AS k`, [slots]);
  }

  /** Keeps a change dated in the future until its effective time; a later change for the identity cancels it. */
  private scheduleChange(tx: SqlExecutor, change: HrChange, identityId: string, correlationId: string | undefined): Promise<void> {
    return this.scheduler.schedule(tx, { key: `hr:${identityId}`, kind: SCHEDULED_HR_CHANGE, dueAt: new Date(change.effectiveAt), payload: { change, identityId, correlationId } });
  }

  /** Activates a pending joiner on its start date. */
  private scheduleActivation(tx: SqlExecutor, change: HrChange, identityId: string, correlationId: string | undefined): Promise<void> {
    return this.scheduler.schedule(tx, { key: `activate:${identityId}`, kind: SCHEDULED_ACTIVATION, dueAt: new Date(change.effectiveAt), payload: { identityId, correlationId } });
  }

  /** Activates a pending identity at its start date (a scheduled job). */
  async activate(tx: SqlExecutor, identityId: string, meta: CommandMeta): Promise<void> {
    await handleIdentityCommand(this.runtime.store, tx, { type: 'ActivateIdentity', data: { identityId, now: this.runtime.clock().toISOString() } }, meta);
  }
}

/** Whether a directory entry already holds what a change would record. */
function sameEntry(stored: DirectoryEntry | undefined, entry: DirectoryEntry): boolean {
  return stored !== undefined && stored.identityId === entry.identityId && stored.managerEmployeeId === entry.managerEmployeeId && stored.managerId === entry.managerId;
}
