import type { DomainEvent } from '@custos/platform/domain';

/** The kinds of target a connector exists for. */
export const TARGET_KINDS = ['postgresql'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** A managed system as registered: where it is and who administers it for Custos. The admin password is in the vault, never here. */
export interface TargetDefinition {
  key: string;
  kind: TargetKind;
  host: string;
  port: number;
  database: string;
  adminUsername: string;
}

/** A target was registered after its connector reached it with the admin credential; the password is version 1 of targetAdminSecretId(key). */
export type TargetRegistered = DomainEvent<'TargetRegistered', TargetDefinition & { registeredAt: string; registeredBy: string }>;

/** The reconciliation found a login role Custos had marked as its own on the target that no live just-in-time account explains, and dropped it (its sessions ended). */
export type UnexplainedAccountDropped = DomainEvent<'UnexplainedAccountDropped', { key: string; username: string; sessionsTerminated: number; droppedAt: string }>;

export type TargetEvent = TargetRegistered | UnexplainedAccountDropped;
