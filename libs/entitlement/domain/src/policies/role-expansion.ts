/** A role as the policies need it: its own entitlements and its child roles. */
export interface RoleView {
  entitlements: readonly string[];
  roles: readonly string[];
}

export type RoleCatalog = Readonly<Record<string, RoleView>>;

/**
 * expandRole: a role gives its own entitlements and, transitively, those of its child roles;
 * each key once, in discovery order; unknown roles give nothing and cycles end the walk.
 */
export function expandRole(roleKey: string, roles: RoleCatalog): string[] {
  const entitlements = new Set<string>();
  const visited = new Set<string>();
  const visit = (key: string): void => {
    if (visited.has(key)) return;
    visited.add(key);
    const role = Object.prototype.hasOwnProperty.call(roles, key) ? roles[key] : undefined;
    if (!role) return;
    role.entitlements.forEach((entitlement) => entitlements.add(entitlement));
    role.roles.forEach(visit);
  };
  visit(roleKey);
  return [...entitlements];
}
