import { randomUUID } from 'node:crypto';
import { identityStreamId } from '@custos/identity/contracts';
import { identityDecider, IdentityNotFound, type IdentityState } from '@custos/identity/domain';
import type { SqlExecutor } from '@custos/platform/event-store';
import { GroupCommit, handleCommands, runAlone, runTogether, unwrap, type ContextRuntime, type DurableScheduler, type Settled } from '@custos/platform/runtime';
import { HrChange, HrOutcome, ReceivedHrChange } from './hr-change';
import { commandFor, sameEntry, untangle } from './hr-commands';
import { DirectoryEntry, EmployeeDirectory, EmployeeIdTaken } from './employee-directory';
import { dedupeKey, HrInbox } from './hr-inbox';
import { CommandMeta, handleIdentityCommand } from './identity-store';

/** What a door that addresses identities by id adds to a change (see HrIntake.receiveForIdentity). */
export interface IntakeForIdentity {
  correlationId?: string;
  /** Who sent the changes (the authenticated caller: `connector:<id>`, a token's subject); else `hr:<system>`. */
  actor?: string;
  /** Runs first in the transaction: a precondition that throws leaves nothing written. */
  before?: (tx: SqlExecutor) => Promise<void>;
  /** Runs last in the same transaction: the door's own records commit with the changes or not at all. */
  after?: (tx: SqlExecutor, outcomes: HrOutcome[]) => Promise<void>;
}

export const SCHEDULED_HR_CHANGE = 'hr-change';
export const SCHEDULED_ACTIVATION = 'identity-activation';

/** Most HR changes applied in one group-commit transaction. */
const MAX_GROUP = 64;

/** A change on its way through the intake, and who sent it. */
interface Received {
  change: HrChange;
  meta: CommandMeta;
  /** The identity a door addresses by id (SCIM, a due change): a joiner creates it, other changes apply to it whatever its employee id. */
  identityId?: string;
  /** A change that waited for its date: it was recorded in the inbox, and superseded older ones, when it was received. */
  due?: boolean;
}

/** A change of a group that is to be applied now or scheduled: who it is about, and how it ends. */
interface Accepted {
  index: number;
  item: Received;
  identityId: string;
  /** The identity id was minted now: its stream is empty. */
  newIdentity: boolean;
  managerId?: string;
  state?: IdentityState;
  status: 'applied' | 'scheduled';
}

/**
 * HrIntake applies HR changes from every door: once per (system, eventId), in one transaction
 * with their inbox record, so a crash, a redelivery or two identical requests at once never apply
 * a change twice or half. Future-dated changes wait in the durable scheduler. Every change goes
 * the same way, as a group (acceptGroup): a lone change is a group of one.
 */
export class HrIntake {
  private readonly group = new GroupCommit<Received, HrOutcome>((items) => this.receiveGroup(items), { maxBatch: MAX_GROUP });

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: EmployeeDirectory,
    private readonly scheduler: DurableScheduler,
    private readonly inbox = new HrInbox(runtime.db, runtime.store.context),
  ) {}

  /** The intake's own table: its inbox (the directory and the scheduler migrate themselves). */
  migrate(x: SqlExecutor = this.runtime.db): Promise<void> {
    return this.inbox.migrate(x);
  }

  /**
   * Receives one change: records it, then applies it now or schedules it for its effective time.
   * A change without `effectiveAt` takes effect when received: it gets the clock's time here,
   * before it waits for a group. Its dedupe key stays (system, eventId), so a repeat of it is a
   * duplicate whatever time the repeat arrives at.
   * Changes received while an earlier group is being written are applied together in the next
   * group's single transaction (group commit), with the same outcome each would have had alone.
   */
  async receive(change: ReceivedHrChange, meta: { correlationId?: string; actor?: string } = {}): Promise<HrOutcome> {
    const dated: HrChange = typeof change.effectiveAt === 'string' ? (change as HrChange) : { ...change, effectiveAt: this.runtime.clock().toISOString() };
    return this.group.submit({ change: dated, meta: hrMeta(dated, meta.correlationId ?? randomUUID(), meta.actor) });
  }

  /**
   * receiveForIdentity applies changes to an identity that the door addresses by id (a SCIM
   * User is an identity): in order, in one transaction with their inbox records and the door's
   * own writes, so that all of them commit or none. A joiner creates the identity under that id;
   * the other changes apply to it whatever employee id it has.
   */
  async receiveForIdentity(identityId: string, changes: HrChange[], options: IntakeForIdentity = {}): Promise<HrOutcome[]> {
    const correlationId = options.correlationId ?? randomUUID();
    return this.runtime.db.transaction(async (tx) => {
      await options.before?.(tx);
      const outcomes: HrOutcome[] = [];
      for (const change of changes) outcomes.push(await this.acceptOne(tx, { change, meta: hrMeta(change, correlationId, options.actor), identityId }));
      await options.after?.(tx, outcomes);
      return outcomes;
    });
  }

  /** Applies a change that waited for its date, now that it is due (a scheduled job). */
  async apply(tx: SqlExecutor, change: HrChange, identityId: string, meta: CommandMeta): Promise<void> {
    await this.acceptOne(tx, { change, meta, identityId, due: true });
  }

  /** Activates a pending identity at its start date (a scheduled job). */
  async activate(tx: SqlExecutor, identityId: string, meta: CommandMeta): Promise<void> {
    await handleIdentityCommand(this.runtime.store, tx, { type: 'ActivateIdentity', data: { identityId, now: this.runtime.clock().toISOString() } }, meta);
  }

  /**
   * receiveGroup applies the changes received together in one transaction, but for those that
   * must see an earlier one's effect (untangle), which follow it one by one. If the database
   * refuses the group's transaction, runTogether retries: the outcome is always the one the
   * change would have had alone.
   */
  private async receiveGroup(items: Received[]): Promise<Array<Settled<HrOutcome>>> {
    const { together, alone } = untangle(items.map((item) => item.change));
    const db = this.runtime.db;
    // The identity stream each change was found to write, for runTogether to retry around a moved one.
    const streams = new Map<Received, string>();
    const attempt = (tx: SqlExecutor, group: Received[]) => this.acceptGroup(tx, group, streams);
    const outcomes = await runTogether(
      db,
      together.map((index) => items[index]),
      attempt,
      {
        streamOf: (item) => streams.get(item),
        onRefused: (error, changes) => this.runtime.logger.debug({ err: error, changes }, 'HR group refused by the database; applying changes one by one'),
      },
    );
    const settled: Array<Settled<HrOutcome>> = new Array(items.length);
    together.forEach((index, i) => (settled[index] = outcomes[i]));
    for (const index of alone) settled[index] = await runAlone(db, items[index], attempt);
    return settled;
  }

  /** One change in the caller's transaction, as a group of one; a refusal throws. */
  private async acceptOne(tx: SqlExecutor, item: Received): Promise<HrOutcome> {
    return unwrap((await this.acceptGroup(tx, [item]))[0]);
  }

  /**
   * acceptGroup applies a group of changes in one transaction with a constant number of
   * statements: claim every inbox record, read every directory entry and stream, decide in
   * memory, then append to every stream, record every directory entry and settle every inbox
   * record at once. A change that the domain refuses gets its error and leaves nothing behind;
   * its neighbours are applied. `streams` learns the stream each change is about.
   */
  private async acceptGroup(tx: SqlExecutor, items: Received[], streams?: Map<Received, string>): Promise<Array<Settled<HrOutcome>>> {
    const now = this.runtime.clock();
    const outcomes: Array<Settled<HrOutcome>> = new Array(items.length);
    const refuse = (index: number, error: unknown) => (outcomes[index] = { ok: false, error });

    // Every employee and manager in one read, before anything is claimed: a change then claims its
    // inbox record already holding the identity it is about and the outcome it will most likely
    // have ('applied'), and only the changes that end otherwise are settled again at the end.
    const people = items.flatMap(({ change: { employee } }) => (employee.managerEmployeeId ? [employee.employeeId, employee.managerEmployeeId] : [employee.employeeId]));
    const entries = await this.directory.byEmployeeIds(tx, [...new Set(people)]);
    const identityOf = items.map((item) => item.identityId ?? entries.get(item.change.employee.employeeId)?.identityId ?? randomUUID());

    // A due change was claimed when it was received.
    const claims = items.flatMap((item, index) => (item.due ? [] : [{ index, system: item.change.system, eventId: item.change.eventId, identityId: identityOf[index], status: 'applied' as const }]));
    const seen = await this.inbox.claim(tx, claims);
    for (const { index } of claims) {
      const first = seen.get(dedupeKey(items[index].change));
      if (first !== undefined) outcomes[index] = { ok: true, value: { identityId: first, status: 'duplicate' } };
    }
    const fresh = items.flatMap((item, index) => (outcomes[index] === undefined ? [{ item, index }] : []));

    // Reports whose manager is missing (and joiners, who may be such a manager) take the manager
    // slot locks, then look for the missing managers again.
    const missing = [...new Set(fresh.map(({ item }) => item.change.employee.managerEmployeeId).filter((m): m is string => m !== undefined && !entries.has(m)))];
    const joining = fresh.filter(({ item }) => item.change.type === 'joiner' || item.change.type === 'rehire').map(({ item }) => item.change.employee.employeeId);
    await this.lockManagerSlots(tx, [...missing, ...joining]);
    if (missing.length > 0) for (const [id, entry] of await this.directory.byEmployeeIds(tx, missing)) entries.set(id, entry);

    // Who each change is about.
    const live: Accepted[] = [];
    for (const { item, index } of fresh) {
      const { type, employee } = item.change;
      const entry = entries.get(employee.employeeId);
      if (item.identityId !== undefined && type === 'joiner' && entry && entry.identityId !== item.identityId) {
        refuse(index, new EmployeeIdTaken(employee.employeeId));
        continue;
      }
      const known = item.identityId !== undefined || entry !== undefined;
      if (!known && type !== 'joiner') {
        refuse(index, new IdentityNotFound(`employee ${employee.employeeId}`));
        continue;
      }
      const managerId = employee.managerEmployeeId ? entries.get(employee.managerEmployeeId)?.identityId : undefined;
      streams?.set(item, identityStreamId(identityOf[index]));
      live.push({ index, item, identityId: identityOf[index], newIdentity: !known, managerId, status: 'applied' });
    }

    // A change dated in the future waits for its date, but a joiner, whose identity exists at once
    // (pending until its start) so that the employee exists for lookups, SCIM and managers.
    const isFuture = (change: HrChange) => Date.parse(change.effectiveAt) > now.getTime();
    const waiting = live.filter((a) => a.item.change.type !== 'joiner' && isFuture(a.item.change));
    const applying = live.filter((a) => !waiting.includes(a));
    const handled = await handleCommands(
      this.runtime.store,
      identityDecider,
      applying.map((a) => ({
        streamId: identityStreamId(a.identityId),
        command: commandFor(a.item.change, a.identityId, a.managerId, now.toISOString()),
        meta: a.item.meta,
        newStream: a.newIdentity,
      })),
      tx,
      { refusals: 'settle' },
    );
    handled.forEach((outcome, i) => (outcome.ok ? (applying[i].state = outcome.value.state) : refuse(applying[i].index, outcome.error)));
    const accepted = live.filter((a) => outcomes[a.index] === undefined);

    // A later HR change supersedes one still waiting for its date.
    await this.scheduler.cancelMany(tx, accepted.filter((a) => a.item.change.type !== 'joiner' && !a.item.due).map((a) => `hr:${a.identityId}`));
    for (const a of waiting) {
      await this.scheduleChange(tx, a.item.change, a.identityId, a.item.meta);
      a.status = 'scheduled';
    }

    // The directory, the reports awaiting an arrival, and the activations of future joiners.
    const recorded = accepted.flatMap((a) => (a.state !== undefined && a.state.kind !== 'NoIdentity' ? [{ a, identity: a.state.identity }] : []));
    // An entry the change leaves as it was is not written again (most movers, every leaver): no
    // report can be awaiting an employee who was already in the directory. Joiners and rehires
    // are always recorded, as they are the arrivals that reports may be waiting for.
    const toRecord = recorded
      .map(({ a, identity }) => ({ type: a.item.change.type, entry: { employeeId: identity.employeeId, identityId: a.identityId, managerEmployeeId: identity.managerEmployeeId, managerId: identity.managerId } }))
      .filter(({ type, entry }) => type === 'joiner' || type === 'rehire' || !sameEntry(entries.get(entry.employeeId), entry));
    const awaiting = await this.directory.recordManyAndTakeAwaiting(tx, toRecord.map(({ entry }) => entry));
    for (const { a, identity } of recorded) {
      await this.linkReports(tx, awaiting.get(identity.employeeId) ?? [], a.identityId, identity.employeeId, a.item.meta, now.toISOString());
      if (a.item.change.type === 'joiner' && isFuture(a.item.change)) {
        await this.scheduleActivation(tx, a.item.change, a.identityId, a.item.meta.correlationId);
        a.status = 'scheduled';
      }
    }

    // Settle the inbox records that were claimed as 'applied' but ended otherwise: the scheduled
    // get their status, the refused leave no trace. Usually there are none.
    const claimed = new Set(claims.map((c) => c.index));
    await this.inbox.settle(
      tx,
      accepted.filter((a) => a.status !== 'applied' && claimed.has(a.index)).map((a) => ({ system: a.item.change.system, eventId: a.item.change.eventId, identityId: a.identityId, status: a.status })),
      fresh.filter(({ index }) => claimed.has(index) && outcomes[index] !== undefined).map(({ item }) => item.change),
    );
    for (const a of accepted) outcomes[a.index] = { ok: true, value: { identityId: a.identityId, status: a.status } };
    return outcomes;
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

  /**
   * Keeps a change dated in the future until its effective time; a later change for the identity
   * cancels it. Who sent it is kept with it: it is still their change when it applies.
   */
  private scheduleChange(tx: SqlExecutor, change: HrChange, identityId: string, meta: CommandMeta): Promise<void> {
    return this.scheduler.schedule(tx, { key: `hr:${identityId}`, kind: SCHEDULED_HR_CHANGE, dueAt: new Date(change.effectiveAt), payload: { change, identityId, correlationId: meta.correlationId, actor: meta.actor } });
  }

  /** Activates a pending joiner on its start date. */
  private scheduleActivation(tx: SqlExecutor, change: HrChange, identityId: string, correlationId: string | undefined): Promise<void> {
    return this.scheduler.schedule(tx, { key: `activate:${identityId}`, kind: SCHEDULED_ACTIVATION, dueAt: new Date(change.effectiveAt), payload: { identityId, correlationId } });
  }
}

/**
 * Who an HR change is applied for, under the request's correlation id: the caller that sent it
 * when a door knows one (a connector token's `connector:<id>`, a token's subject), else its system.
 */
function hrMeta(change: HrChange, correlationId: string, actor?: string): CommandMeta {
  return { actor: actor ?? `hr:${change.system}`, correlationId };
}
