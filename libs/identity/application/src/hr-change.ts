import type { ChangeSource, EmployeeRecord } from '@custos/identity/contracts';

/** One joiner / mover / leaver / rehire as any HR door (webhook, SCIM, NATS, CSV) delivers it. */
export interface HrChange {
  /** Unique per system: a repeat is a duplicate. */
  eventId: string;
  system: string;
  type: 'joiner' | 'mover' | 'leaver' | 'rehire';
  effectiveAt: string;
  employee: EmployeeRecord;
  groups?: string[];
  channel: ChangeSource['channel'];
}

/**
 * A change as the webhook and NATS doors receive it: `effectiveAt` may be left out (or null), and
 * the change then takes effect when Custos receives it (HrIntake.receive stamps its clock).
 */
export type ReceivedHrChange = Omit<HrChange, 'effectiveAt'> & { effectiveAt?: string | null };

export type HrOutcome = { identityId: string; status: 'applied' | 'scheduled' | 'duplicate' };
