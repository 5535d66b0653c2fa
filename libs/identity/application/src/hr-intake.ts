import { randomUUID } from 'node:crypto';
import type { IdentityCommand } from '@custos/identity/domain';
import { IdentityNotFound } from '@custos/identity/domain';
import type { SqlExecutor } from '@custos/platform/event-store';
import type { ContextRuntime, DurableScheduler } from '@custos/platform/runtime';
import { HrChange, HrOutcome } from './hr-change';
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

/**
 * HrIntake applies HR changes from every door: once per (system, eventId), in one transaction
 * with the dedupe record, so a crash, a redelivery or two identical requests at once never apply
 * a change twice or half. Future-dated changes wait in the durable scheduler.
 */
export class HrIntake {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: EmployeeDirectory,
    private readonly scheduler: DurableScheduler,
  ) {}

  async migrate(x: SqlExecutor = this.runtime.db): Promise<void> {
    const s = this.runtime.store.context;
    await x.query(`CREATE TABLE IF NOT EXISTS ${s}.hr_inbox (
      system text NOT NULL, event_id text NOT NULL, identity_id text, status text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (system, event_id))`);
  }

  /** Receives one change: records it, then applies it now or schedules it for its effective time. */
  async receive(change: HrChange, meta: { correlationId?: string } = {}): Promise<HrOutcome> {
    return this.runtime.db.transaction((tx) => this.claimAndAccept(tx, change, meta.correlationId ?? randomUUID()));
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
        await this.scheduler.schedule(tx, { key: `activate:${identityId}`, kind: SCHEDULED_ACTIVATION, dueAt: new Date(change.effectiveAt), payload: { identityId, correlationId: meta.correlationId } });
        return { identityId, status: 'scheduled' };
      }
      return { identityId, status: 'applied' };
    }
    if (!known) throw new IdentityNotFound(`employee ${change.employee.employeeId}`);
    // A later HR change for the same employee supersedes a change still waiting for its date.
    await this.scheduler.cancel(tx, `hr:${known.identityId}`);
    if (Date.parse(change.effectiveAt) > now.getTime()) {
      await this.scheduler.schedule(tx, { key: `hr:${known.identityId}`, kind: SCHEDULED_HR_CHANGE, dueAt: new Date(change.effectiveAt), payload: { change, identityId: known.identityId, correlationId: meta.correlationId } });
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
    const source = { system: change.system, eventId: change.eventId, channel: change.channel };
    const managerEmployeeId = change.employee.managerEmployeeId;
    let managerEntry = prefetched ? prefetched.manager : managerEmployeeId ? await this.directory.byEmployeeId(tx, managerEmployeeId) : null;
    if (managerEmployeeId && !managerEntry) {
      // The manager may be joining at this very moment: wait for their transaction, then look again,
      // so that either we see them or they see us waiting (see lockManagerSlot).
      await this.lockManagerSlot(tx, managerEmployeeId);
      managerEntry = await this.directory.byEmployeeId(tx, managerEmployeeId);
    }
    const managerId = change.employee.managerEmployeeId ? managerEntry?.identityId : undefined;
    const base = { identityId, effectiveAt: change.effectiveAt, now, source };
    const command: IdentityCommand =
      change.type === 'joiner'
        ? { type: 'HireIdentity', data: { ...base, employee: change.employee, managerId, groups: change.groups } }
        : change.type === 'mover'
          ? { type: 'MoveIdentity', data: { ...base, employee: change.employee, managerId } }
          : change.type === 'rehire'
            ? { type: 'RehireIdentity', data: { ...base, employee: change.employee, managerId, groups: change.groups } }
            : { type: 'TerminateIdentity', data: base };
    const { state } = await handleIdentityCommand(this.runtime.store, tx, command, meta, { newStream: prefetched?.newIdentity === true });
    if (state.kind === 'NoIdentity') return;
    // Only a joiner or a rehire brings an employee id that reports may be waiting for.
    if (change.type === 'joiner' || change.type === 'rehire') await this.lockManagerSlot(tx, state.identity.employeeId);
    const awaiting = await this.directory.recordAndTakeAwaiting(tx, {
      employeeId: state.identity.employeeId,
      identityId,
      managerEmployeeId: state.identity.managerEmployeeId,
      managerId: state.identity.managerId,
    });
    // Reports who arrived before this manager are linked now that the manager exists.
    for (const report of awaiting) {
      const linked = await handleIdentityCommand(
        this.runtime.store,
        tx,
        { type: 'LinkManager', data: { identityId: report.identityId, managerId: identityId, managerEmployeeId: state.identity.employeeId, now } },
        meta,
      );
      if (linked.state.kind !== 'NoIdentity') await this.directory.record(tx, { ...report, managerId: identityId });
    }
  }

  /**
   * lockManagerSlot serialises a report that finds no manager with that manager's own joiner:
   * without it, both could commit unseen by each other and the report would never be linked.
   * The lock lives until the transaction ends.
   */
  private async lockManagerSlot(tx: SqlExecutor, managerEmployeeId: string): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`custos:manager:${managerEmployeeId}`]);
  }

  /** Activates a pending identity at its start date (a scheduled job). */
  async activate(tx: SqlExecutor, identityId: string, meta: CommandMeta): Promise<void> {
    await handleIdentityCommand(this.runtime.store, tx, { type: 'ActivateIdentity', data: { identityId, now: this.runtime.clock().toISOString() } }, meta);
  }
}
