import type { IdentityCommand } from '@custos/identity/domain';
import type { DirectoryEntry } from './employee-directory';
import type { HrChange } from './hr-change';
import { dedupeKey } from './hr-inbox';

/** The command an HR change means for an identity. */
export function commandFor(change: HrChange, identityId: string, managerId: string | undefined, now: string): IdentityCommand {
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

/**
 * untangle splits changes received together: a change that repeats an earlier one of them, or
 * touches an employee an earlier one is about or reports to, must see that change's effect, so it
 * runs alone after the others (by index); the rest can be decided together.
 */
export function untangle(changes: HrChange[]): { together: number[]; alone: number[] } {
  const together: number[] = [];
  const alone: number[] = [];
  const keys = new Set<string>();
  const employees = new Set<string>();
  const managers = new Set<string>();
  changes.forEach((change, index) => {
    const { employeeId, managerEmployeeId } = change.employee;
    const key = dedupeKey(change);
    const entangled = keys.has(key) || employees.has(employeeId) || managers.has(employeeId) || (managerEmployeeId !== undefined && employees.has(managerEmployeeId));
    if (entangled) return alone.push(index);
    keys.add(key);
    employees.add(employeeId);
    if (managerEmployeeId) managers.add(managerEmployeeId);
    together.push(index);
  });
  return { together, alone };
}

/** Whether a directory entry already holds what a change would record. */
export function sameEntry(stored: DirectoryEntry | undefined, entry: DirectoryEntry): boolean {
  return stored !== undefined && stored.identityId === entry.identityId && stored.managerEmployeeId === entry.managerEmployeeId && stored.managerId === entry.managerId;
}
