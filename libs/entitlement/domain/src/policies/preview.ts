import { birthrightAccess, desiredGrantKey, type BirthrightRuleView, type DesiredGrant, type IdentityAttributes } from './birthright-policy';
import type { RoleCatalog } from './role-expansion';

export interface IdentityProfile extends IdentityAttributes {
  identityId: string;
}

/**
 * What a catalog change would do to one identity's birthright access. `gains` / `losses` are the
 * birthright grants added / removed; `entitlementsGained` / `entitlementsLost` are the entitlements
 * whose birthright access starts / ends entirely (another rule or role may still give a lost grant's entitlement).
 */
export interface AccessPreview {
  identityId: string;
  gains: DesiredGrant[];
  losses: DesiredGrant[];
  entitlementsGained: string[];
  entitlementsLost: string[];
}

/**
 * previewBirthrightChange: who would gain and lose which birthright grants if the rules changed
 * from `rulesBefore` to `rulesAfter`; identities without a change are left out. Pass active identities only.
 */
export function previewBirthrightChange(
  identities: readonly IdentityProfile[],
  rulesBefore: readonly BirthrightRuleView[],
  rulesAfter: readonly BirthrightRuleView[],
  roles: RoleCatalog,
): AccessPreview[] {
  return previewChange(
    identities,
    (identity) => birthrightAccess(identity, rulesBefore, roles),
    (identity) => birthrightAccess(identity, rulesAfter, roles),
  );
}

/**
 * previewRoleChange: who would gain and lose which birthright grants if the roles changed from
 * `rolesBefore` to `rolesAfter` under the same rules; identities without a change are left out.
 */
export function previewRoleChange(
  identities: readonly IdentityProfile[],
  rules: readonly BirthrightRuleView[],
  rolesBefore: RoleCatalog,
  rolesAfter: RoleCatalog,
): AccessPreview[] {
  return previewChange(
    identities,
    (identity) => birthrightAccess(identity, rules, rolesBefore),
    (identity) => birthrightAccess(identity, rules, rolesAfter),
  );
}

function previewChange(
  identities: readonly IdentityProfile[],
  before: (identity: IdentityProfile) => DesiredGrant[],
  after: (identity: IdentityProfile) => DesiredGrant[],
): AccessPreview[] {
  return identities.flatMap((identity) => {
    const was = before(identity);
    const will = after(identity);
    const wasKeys = new Set(was.map(desiredGrantKey));
    const willKeys = new Set(will.map(desiredGrantKey));
    const gains = will.filter((grant) => !wasKeys.has(desiredGrantKey(grant)));
    const losses = was.filter((grant) => !willKeys.has(desiredGrantKey(grant)));
    if (gains.length === 0 && losses.length === 0) return [];
    const wasEntitlements = new Set(was.map((grant) => grant.entitlement));
    const willEntitlements = new Set(will.map((grant) => grant.entitlement));
    return [
      {
        identityId: identity.identityId,
        gains,
        losses,
        entitlementsGained: [...willEntitlements].filter((key) => !wasEntitlements.has(key)),
        entitlementsLost: [...wasEntitlements].filter((key) => !willEntitlements.has(key)),
      },
    ];
  });
}
