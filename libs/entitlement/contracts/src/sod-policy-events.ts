import type { DomainEvent } from '@custos/platform/domain';

/** `prevent` refuses access that would create the conflict; `approve` routes it to the security step. */
export type SodMode = 'prevent' | 'approve';

export type SodSeverity = 'low' | 'medium' | 'high' | 'critical';

export interface SodPolicyDefinition {
  key: string;
  name: string;
  /** Holding any entitlement of the first set together with any of the second is a violation. */
  conflicting: [string[], string[]];
  mode: SodMode;
  severity: SodSeverity;
}

export type SodPolicyDefined = DomainEvent<
  'SodPolicyDefined',
  SodPolicyDefinition & { definedAt: string; definedBy: string }
>;

export type SodPolicyEvent = SodPolicyDefined;

/** One violated policy: the held entitlements on each side of it. */
export interface SodConflict {
  policyKey: string;
  mode: SodMode;
  severity: SodSeverity;
  left: string[];
  right: string[];
}
