import type { AttributeMatch, BirthrightWhen } from '@custos/entitlement/contracts';
import { expandRole, type RoleCatalog } from './role-expansion';

/** The attributes of an identity that birthright rules test. */
export interface IdentityAttributes {
  department?: string;
  title?: string;
  location?: string;
  employmentType?: string;
  costCenter?: string;
  groups?: readonly string[];
}

export interface BirthrightRuleView {
  key: string;
  when: BirthrightWhen;
  roles: readonly string[];
}

/** One birthright grant an identity should hold: the entitlement, the role it comes with, the rule that gives the role. */
export interface DesiredGrant {
  entitlement: string;
  role: string;
  ruleKey: string;
}

/**
 * matchesRule: `{ all: true }` matches everyone; otherwise every condition must hold. Values
 * compare trimmed and case-insensitively (HR systems disagree on case); `{ in }` matches any
 * listed value; `groups` matches when the identity has any listed group; a missing attribute
 * never matches.
 */
export function matchesRule(identity: IdentityAttributes, when: BirthrightWhen): boolean {
  if ('all' in when) return when.all === true;
  const conditions = Object.entries(when).filter(([, match]) => match !== undefined) as Array<[keyof IdentityAttributes, AttributeMatch]>;
  if (conditions.length === 0) return false;
  return conditions.every(([attribute, match]) => {
    const wanted = (typeof match === 'string' ? [match] : match.in).map(fold);
    const value = identity[attribute];
    const held = attribute === 'groups' ? (value as readonly string[] | undefined) ?? [] : typeof value === 'string' ? [value] : [];
    return held.some((candidate) => wanted.includes(fold(candidate)));
  });
}

/**
 * birthrightAccess: an identity should hold every entitlement of every role (child roles
 * included) of every rule it matches, each attributed to the role the rule grants directly;
 * identical (entitlement, role, rule) triples appear once.
 */
export function birthrightAccess(
  identity: IdentityAttributes,
  rules: readonly BirthrightRuleView[],
  roles: RoleCatalog,
): DesiredGrant[] {
  const desired = new Map<string, DesiredGrant>();
  for (const rule of rules) {
    if (!matchesRule(identity, rule.when)) continue;
    for (const role of rule.roles) {
      for (const entitlement of expandRole(role, roles)) {
        const grant = { entitlement, role, ruleKey: rule.key };
        desired.set(desiredGrantKey(grant), grant);
      }
    }
  }
  return [...desired.values()];
}

/** desiredGrantKey: a birthright grant is identified by its (rule, role, entitlement) triple. */
export function desiredGrantKey(grant: DesiredGrant): string {
  return JSON.stringify([grant.ruleKey, grant.role, grant.entitlement]);
}

function fold(value: string): string {
  return value.trim().toLowerCase();
}
