import type { SodMode, SodSeverity } from '@custos/entitlement/contracts';
import type { KnownKeys } from '../shared/references';

export interface DefineSodPolicy {
  type: 'DefineSodPolicy';
  data: {
    key: string;
    name: string;
    conflicting: [string[], string[]];
    /** Default `prevent`. */
    mode?: SodMode;
    /** Default `high`. */
    severity?: SodSeverity;
    /** The entitlement keys that exist when the command is decided. */
    knownEntitlements: KnownKeys;
    now: string;
    actor: string;
  };
}

export type SodPolicyCommand = DefineSodPolicy;
