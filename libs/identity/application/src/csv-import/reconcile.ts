import { createHash } from 'node:crypto';
import type { EmployeeRecord, IdentityStatus } from '@custos/identity/contracts';
import { SNAPSHOT_COLUMNS, type SnapshotColumn, type SnapshotRow } from './snapshot';

/** An identity as Custos holds it now (what `GET /identities` lists). */
export interface CurrentIdentity extends EmployeeRecord {
  identityId: string;
  status: IdentityStatus;
  version: number;
  /** The HR system that hired (or rehired) the identity; absent from a Custos that does not say. */
  systemOfRecord?: string;
}

export interface FieldDiff {
  field: SnapshotColumn;
  from?: string;
  to?: string;
}

export interface PlannedJoiner {
  type: 'joiner';
  line: number;
  employee: EmployeeRecord;
}

/** A terminated identity that is back in the export. */
export interface PlannedRehire {
  type: 'rehire';
  line: number;
  identityId: string;
  version: number;
  employee: EmployeeRecord;
}

export interface PlannedMover {
  type: 'mover';
  line: number;
  identityId: string;
  version: number;
  employee: EmployeeRecord;
  changes: FieldDiff[];
}

export interface PlannedLeaver {
  type: 'leaver';
  identityId: string;
  version: number;
  employee: EmployeeRecord;
}

export type PlannedChange = PlannedJoiner | PlannedRehire | PlannedMover | PlannedLeaver;

/** A row about an identity whose system of record is another system: left alone. */
export interface OtherSystemRow {
  line: number;
  identityId: string;
  employee: EmployeeRecord;
  /** Absent when Custos did not say which system the identity belongs to. */
  systemOfRecord?: string;
}

/** Below this many active identities of the import's system, the leaver threshold does not apply. */
export const LEAVER_THRESHOLD_MINIMUM_POPULATION = 20;

export interface ReconcileOptions {
  /** The export's HR system: only identities whose system of record it is are compared, changed or made leavers. */
  system: string;
  /** Identities missing from the export become leavers only when this is set. */
  allowLeavers: boolean;
  /** Leavers above `thresholdPercent` of the active identities stop the import unless forced. */
  force: boolean;
  /** Default 5. */
  thresholdPercent: number;
  /** The threshold applies from this many active identities of the system (default LEAVER_THRESHOLD_MINIMUM_POPULATION). */
  minimumPopulation?: number;
}

export interface ReconcilePlan {
  joiners: PlannedJoiner[];
  rehires: PlannedRehire[];
  movers: PlannedMover[];
  /** Leavers to send (empty without allowLeavers). */
  leavers: PlannedLeaver[];
  /** Active identities absent from the export that were not made leavers (allowLeavers unset). */
  missing: PlannedLeaver[];
  /** Pending identities (future joiners) absent from the export: left alone, an export of current staff may not list them yet. */
  pendingNotInFile: number;
  /** Rows about identities of another system of record: left alone (that system reconciles them). */
  otherSystems: OtherSystemRow[];
  unchanged: number;
  /** Active identities of the import's system before the import: the base of the leaver threshold. */
  active: number;
  /** Why the import must not run as asked (too many leavers without force). */
  blocked?: string;
}

const PLAN_ORDER = { joiner: 0, rehire: 1, mover: 2, leaver: 3 } as const;

/**
 * reconcile compares a full HR export with the identities Custos holds, by employee id: a row
 * without an identity is a joiner, a row of a terminated identity a rehire, a row whose
 * attributes differ a mover (with each changed field), and an active identity missing from the
 * export a leaver, but only when leavers are allowed, and never more than the threshold (a
 * truncated export must not terminate the company) unless forced; the threshold applies from a
 * minimum population, so that a small trial can be reconciled. An export speaks only for its own
 * system: an identity whose system of record is another (hired by a webhook, by SCIM) is never
 * changed or made a leaver by it, and a row about one is reported and left alone. Pure: no I/O,
 * no clock.
 */
export function reconcile(current: CurrentIdentity[], rows: SnapshotRow[], options: ReconcileOptions): ReconcilePlan {
  const byEmployee = new Map<string, CurrentIdentity>();
  for (const identity of current) {
    const other = byEmployee.get(identity.employeeId);
    // If an employee id was reused, the live identity is the one the export speaks about.
    if (!other || (other.status === 'terminated' && identity.status !== 'terminated')) byEmployee.set(identity.employeeId, identity);
  }
  const plan: ReconcilePlan = { joiners: [], rehires: [], movers: [], leavers: [], missing: [], pendingNotInFile: 0, otherSystems: [], unchanged: 0, active: 0 };
  const ours = (identity: CurrentIdentity) => identity.systemOfRecord === options.system;
  const inFile = new Set<string>();
  for (const row of rows) {
    inFile.add(row.employee.employeeId);
    const identity = byEmployee.get(row.employee.employeeId);
    if (!identity) {
      plan.joiners.push({ type: 'joiner', line: row.line, employee: row.employee });
    } else if (!ours(identity)) {
      plan.otherSystems.push({ line: row.line, identityId: identity.identityId, employee: row.employee, ...(identity.systemOfRecord === undefined ? {} : { systemOfRecord: identity.systemOfRecord }) });
    } else if (identity.status === 'terminated') {
      plan.rehires.push({ type: 'rehire', line: row.line, identityId: identity.identityId, version: identity.version, employee: row.employee });
    } else {
      const changes = diff(identity, row.employee);
      if (changes.length === 0) plan.unchanged += 1;
      else plan.movers.push({ type: 'mover', line: row.line, identityId: identity.identityId, version: identity.version, employee: row.employee, changes });
    }
  }
  for (const identity of byEmployee.values()) {
    if (!ours(identity)) continue;
    if (identity.status === 'active') plan.active += 1;
    if (inFile.has(identity.employeeId) || identity.status === 'terminated') continue;
    if (identity.status === 'pending') {
      plan.pendingNotInFile += 1;
      continue;
    }
    const leaver: PlannedLeaver = { type: 'leaver', identityId: identity.identityId, version: identity.version, employee: recordOf(identity) };
    (options.allowLeavers ? plan.leavers : plan.missing).push(leaver);
  }
  plan.leavers.sort((a, b) => a.employee.employeeId.localeCompare(b.employee.employeeId));
  plan.missing.sort((a, b) => a.employee.employeeId.localeCompare(b.employee.employeeId));
  const limit = (plan.active * options.thresholdPercent) / 100;
  const thresholdApplies = plan.active >= (options.minimumPopulation ?? LEAVER_THRESHOLD_MINIMUM_POPULATION);
  if (plan.leavers.length > limit && thresholdApplies && !options.force) {
    const share = plan.active === 0 ? 100 : (plan.leavers.length * 100) / plan.active;
    plan.blocked =
      `${plan.leavers.length} leavers are ${share.toFixed(1)}% of the ${plan.active} active identities of ${options.system}, above the threshold of ${options.thresholdPercent}%: ` +
      'check that the export is complete, then run again with --force (or raise --threshold)';
  }
  return plan;
}

/** The changes of a plan in the order to send them: joiners by management depth (managers first), then rehires, movers, leavers. */
export function planChanges(plan: ReconcilePlan): PlannedChange[][] {
  const waves: PlannedChange[][] = joinerWaves(plan.joiners);
  const rest = [...plan.rehires, ...plan.movers, ...plan.leavers].sort((a, b) => PLAN_ORDER[a.type] - PLAN_ORDER[b.type]);
  if (rest.length > 0) waves.push(rest);
  return waves;
}

/**
 * Joiners grouped so that a manager joining in the same file is sent in an earlier group than
 * the reports: each group may be sent concurrently, the groups one after the other.
 */
function joinerWaves(joiners: PlannedJoiner[]): PlannedChange[][] {
  const byEmployee = new Map(joiners.map((j) => [j.employee.employeeId, j]));
  const depth = new Map<string, number>();
  const depthOf = (j: PlannedJoiner, trail: Set<string>): number => {
    const known = depth.get(j.employee.employeeId);
    if (known !== undefined) return known;
    const manager = j.employee.managerEmployeeId ? byEmployee.get(j.employee.managerEmployeeId) : undefined;
    // A manager outside the file, or a cycle in the file: this joiner starts a chain.
    const d = manager && !trail.has(manager.employee.employeeId) ? depthOf(manager, new Set(trail).add(j.employee.employeeId)) + 1 : 0;
    depth.set(j.employee.employeeId, d);
    return d;
  };
  const waves: PlannedChange[][] = [];
  for (const j of joiners) {
    const d = depthOf(j, new Set([j.employee.employeeId]));
    (waves[d] ??= []).push(j);
  }
  return waves.filter((w) => w && w.length > 0);
}

/** The HR event (the `POST /hr/events` body) for a planned change. */
export interface SnapshotHrEvent {
  eventId: string;
  system: string;
  type: PlannedChange['type'];
  effectiveAt: string;
  employee: EmployeeRecord;
}

/**
 * toHrEvent builds the event for a change, with a deterministic eventId: `csv:` and the SHA-256
 * of the system, the type, the employee's record as the file states it and, for a change to an
 * existing identity, the identity and the version it was read at. Re-running the same file
 * sends the same ids (duplicates, no second change), while a later, different change of the
 * same person (moved back to a former department) gets a new id.
 */
export function toHrEvent(change: PlannedChange, system: string, effectiveAt: string): SnapshotHrEvent {
  const record = SNAPSHOT_COLUMNS.map((c) => change.employee[c] ?? null);
  const basis = change.type === 'joiner' ? [system, change.type, record] : [system, change.type, record, change.identityId, change.version];
  const eventId = `csv:${createHash('sha256').update(JSON.stringify(basis)).digest('hex')}`;
  return { eventId, system, type: change.type, effectiveAt, employee: change.employee };
}

function diff(identity: CurrentIdentity, employee: EmployeeRecord): FieldDiff[] {
  const changes: FieldDiff[] = [];
  for (const field of SNAPSHOT_COLUMNS) {
    const from = identity[field] || undefined;
    const to = employee[field] || undefined;
    if (from !== to) changes.push({ field, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) });
  }
  return changes;
}

function recordOf(identity: CurrentIdentity): EmployeeRecord {
  const record: Partial<Record<SnapshotColumn, string>> = {};
  for (const field of SNAPSHOT_COLUMNS) {
    if (identity[field]) record[field] = identity[field];
  }
  return record as EmployeeRecord;
}
