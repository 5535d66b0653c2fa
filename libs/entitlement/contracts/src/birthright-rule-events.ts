import type { DomainEvent } from '@custos/platform/domain';

/** The identity attributes a birthright rule may test. */
export const BIRTHRIGHT_ATTRIBUTES = ['department', 'title', 'location', 'employmentType', 'costCenter', 'groups'] as const;

export type BirthrightAttribute = (typeof BIRTHRIGHT_ATTRIBUTES)[number];

/** A string matches that value; `{ in }` matches any of the values (for `groups`: any group held). */
export type AttributeMatch = string | { in: string[] };

/** Every given condition must hold. At least one is required. */
export type BirthrightConditions = Partial<Record<BirthrightAttribute, AttributeMatch>>;

/** Matches every identity; stands alone. */
export interface MatchEveryone {
  all: true;
}

export type BirthrightWhen = MatchEveryone | BirthrightConditions;

export interface BirthrightRuleDefinition {
  key: string;
  name: string;
  when: BirthrightWhen;
  roles: string[];
}

export type BirthrightRuleDefined = DomainEvent<
  'BirthrightRuleDefined',
  BirthrightRuleDefinition & { definedAt: string; definedBy: string }
>;

/** Carries the rule's complete new definition, not a diff. */
export type BirthrightRuleChanged = DomainEvent<
  'BirthrightRuleChanged',
  BirthrightRuleDefinition & { changedAt: string; changedBy: string }
>;

export type BirthrightRuleEvent = BirthrightRuleDefined | BirthrightRuleChanged;
