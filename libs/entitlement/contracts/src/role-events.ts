import type { DomainEvent } from '@custos/platform/domain';

/** A role bundles entitlements and other roles (child roles), by key. */
export interface RoleDefinition {
  key: string;
  name: string;
  entitlements: string[];
  roles: string[];
}

export type RoleDefined = DomainEvent<'RoleDefined', RoleDefinition & { definedAt: string; definedBy: string }>;

/** Carries the role's complete new lists, not a diff. */
export type RoleChanged = DomainEvent<'RoleChanged', RoleDefinition & { changedAt: string; changedBy: string }>;

export type RoleEvent = RoleDefined | RoleChanged;
