import type { BirthrightWhen } from '@custos/entitlement/contracts';
import type { KnownKeys } from '../shared/references';

export interface DefineBirthrightRule {
  type: 'DefineBirthrightRule';
  data: {
    key: string;
    name: string;
    when: BirthrightWhen;
    roles: string[];
    /** The role keys that exist when the command is decided. */
    knownRoles: KnownKeys;
    now: string;
    actor: string;
  };
}

/** Replaces the rule's name, conditions and roles (PUT semantics). */
export interface ChangeBirthrightRule {
  type: 'ChangeBirthrightRule';
  data: {
    key: string;
    name: string;
    when: BirthrightWhen;
    roles: string[];
    knownRoles: KnownKeys;
    now: string;
    actor: string;
  };
}

export type BirthrightRuleCommand = DefineBirthrightRule | ChangeBirthrightRule;
