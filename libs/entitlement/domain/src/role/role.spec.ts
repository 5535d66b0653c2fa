import type { RoleEvent } from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, RoleCycle, UnknownReference, ValidationFailed } from '../errors';
import { ADMIN, LATER, NOW, roleDefined } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { ChangeRole, DefineRole, KnownRoleCatalog, RoleCommand } from './commands';
import { roleDecider } from './index';
import type { RoleState } from './state';

const spec = deciderSpec<RoleCommand, RoleEvent, RoleState>(roleDecider);

/** The catalog before the command: developer -> engineer; platform-lead -> developer. */
const known: KnownRoleCatalog = {
  entitlements: new Set(['github:member', 'github:org-admin', 'aws:read', 'aws:admin']),
  roles: { engineer: [], developer: ['engineer'], 'platform-lead': ['developer'] },
};

const define = (data: Partial<DefineRole['data']> = {}): DefineRole => ({
  type: 'DefineRole',
  data: { key: 'engineer', name: 'Engineer', entitlements: ['github:member'], roles: [], known: { ...known, roles: {} }, now: NOW, actor: ADMIN, ...data },
});
const change = (data: Partial<ChangeRole['data']> = {}): ChangeRole => ({
  type: 'ChangeRole',
  data: { key: 'engineer', name: 'Engineer', entitlements: ['github:member'], roles: [], known, now: LATER, actor: ADMIN, ...data },
});

describe('role', () => {
  describe('given no role', () => {
    it('defines it', () => {
      spec.given([]).when(define()).then([roleDefined()]);
    });

    it('defines a role that includes existing roles, with duplicates dropped', () => {
      spec
        .given([])
        .when(define({ key: 'sre', name: 'SRE', entitlements: ['aws:admin', 'aws:admin'], roles: ['developer', 'engineer'], known }))
        .then([roleDefined({ key: 'sre', name: 'SRE', entitlements: ['aws:admin'], roles: ['developer', 'engineer'] })]);
    });

    it('accepts the entitlement keys as an array too', () => {
      spec
        .given([])
        .when(define({ known: { entitlements: ['github:member'], roles: {} } }))
        .then([roleDefined()]);
    });

    it('names every unknown entitlement and role key', () => {
      spec
        .given([])
        .when(define({ entitlements: ['github:member', 'jira:admin', 'slack:owner'], roles: ['ghost'] }))
        .thenThrows(UnknownReference, (error) => {
          expect(error.references).toEqual([
            { kind: 'entitlement', keys: ['jira:admin', 'slack:owner'] },
            { kind: 'role', keys: ['ghost'] },
          ]);
          expect(error.kind).toBe('entitlement');
          expect(error.keys).toEqual(['jira:admin', 'slack:owner', 'ghost']);
          expect(error.code).toBe('unknown-reference');
        });
    });

    it('reports an unknown role alone with kind role', () => {
      spec
        .given([])
        .when(define({ roles: ['ghost'] }))
        .thenThrows(UnknownReference, (error) => expect(error).toMatchObject({ kind: 'role', keys: ['ghost'] }));
    });

    it('refuses a role that includes itself', () => {
      spec.given([]).when(define({ roles: ['engineer'] })).thenThrows(RoleCycle, (error) => expect(error.path).toEqual(['engineer', 'engineer']));
    });

    it('refuses a blank name', () => {
      spec.given([]).when(define({ name: '' })).thenThrows(ValidationFailed);
    });

    it('cannot change a role that is not defined', () => {
      spec.given([]).when(change()).thenThrows(NotDefined);
    });
  });

  describe('given a defined role', () => {
    it('refuses to define the key again', () => {
      spec.given([roleDefined()]).when(define()).thenThrows(AlreadyDefined);
    });

    it('records the change with the new lists', () => {
      spec
        .given([roleDefined()])
        .when(change({ entitlements: ['github:member', 'aws:read'] }))
        .then([
          { type: 'RoleChanged', data: { key: 'engineer', name: 'Engineer', entitlements: ['github:member', 'aws:read'], roles: [], changedAt: LATER, changedBy: ADMIN } },
        ]);
    });

    it('records nothing when the lists are the same, in any order', () => {
      spec
        .given([roleDefined({ entitlements: ['github:member', 'aws:read'] })])
        .when(change({ entitlements: ['aws:read', 'github:member'] }))
        .then([]);
    });

    it('refuses a change that closes a cycle through other roles', () => {
      // engineer -> platform-lead -> developer -> engineer
      spec
        .given([roleDefined()])
        .when(change({ roles: ['platform-lead'] }))
        .thenThrows(RoleCycle, (error) => expect(error.path).toEqual(['engineer', 'platform-lead', 'developer', 'engineer']));
    });

    it('refuses a change that makes the role include itself', () => {
      spec.given([roleDefined()]).when(change({ roles: ['engineer'] })).thenThrows(RoleCycle, (error) => expect(error.path).toEqual(['engineer', 'engineer']));
    });

    it('refuses a change that names unknown keys', () => {
      spec
        .given([roleDefined()])
        .when(change({ entitlements: ['nope'] }))
        .thenThrows(UnknownReference, (error) => expect(error.keys).toEqual(['nope']));
    });

    it('accepts a change that drops a child role the catalog still lists for it', () => {
      // The catalog says developer -> engineer; the change to developer replaces that edge.
      spec
        .given([roleDefined({ key: 'developer', name: 'Developer', entitlements: [], roles: ['engineer'] })])
        .when(change({ key: 'developer', name: 'Developer', entitlements: [], roles: [] }))
        .then([{ type: 'RoleChanged', data: { key: 'developer', name: 'Developer', entitlements: [], roles: [], changedAt: LATER, changedBy: ADMIN } }]);
    });
  });
});
