import type { KnownKeys } from '../shared/references';

/** What the catalog holds when the command is decided: entitlement keys, and each role's child role keys. */
export interface KnownRoleCatalog {
  entitlements: KnownKeys;
  roles: Record<string, readonly string[]>;
}

export interface DefineRole {
  type: 'DefineRole';
  data: {
    key: string;
    name: string;
    entitlements: string[];
    roles: string[];
    known: KnownRoleCatalog;
    now: string;
    actor: string;
  };
}

/** Replaces the role's name and lists (PUT semantics). */
export interface ChangeRole {
  type: 'ChangeRole';
  data: {
    key: string;
    name: string;
    entitlements: string[];
    roles: string[];
    known: KnownRoleCatalog;
    now: string;
    actor: string;
  };
}

export type RoleCommand = DefineRole | ChangeRole;
