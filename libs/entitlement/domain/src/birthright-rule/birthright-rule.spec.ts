import type { BirthrightRuleEvent, BirthrightWhen } from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, RuleWithoutConditions, UnknownReference, ValidationFailed } from '../errors';
import { ADMIN, LATER, NOW, birthrightRuleDefined } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { BirthrightRuleCommand, ChangeBirthrightRule, DefineBirthrightRule } from './commands';
import { birthrightRuleDecider } from './index';
import type { BirthrightRuleState } from './state';

const spec = deciderSpec<BirthrightRuleCommand, BirthrightRuleEvent, BirthrightRuleState>(birthrightRuleDecider);

const knownRoles = ['engineer', 'employee', 'sales'];

const define = (data: Partial<DefineBirthrightRule['data']> = {}): DefineBirthrightRule => ({
  type: 'DefineBirthrightRule',
  data: { key: 'engineering-staff', name: 'Engineering staff', when: { department: 'Engineering' }, roles: ['engineer'], knownRoles, now: NOW, actor: ADMIN, ...data },
});
const change = (data: Partial<ChangeBirthrightRule['data']> = {}): ChangeBirthrightRule => ({
  type: 'ChangeBirthrightRule',
  data: { key: 'engineering-staff', name: 'Engineering staff', when: { department: 'Engineering' }, roles: ['engineer'], knownRoles, now: LATER, actor: ADMIN, ...data },
});

describe('birthright rule', () => {
  describe('given no rule', () => {
    it('defines it', () => {
      spec.given([]).when(define()).then([birthrightRuleDefined()]);
    });

    it('defines a rule for everyone with { all: true }', () => {
      spec
        .given([])
        .when(define({ key: 'everyone', name: 'Everyone', when: { all: true }, roles: ['employee'] }))
        .then([birthrightRuleDefined({ key: 'everyone', name: 'Everyone', when: { all: true }, roles: ['employee'] })]);
    });

    it('keeps several conditions, dropping undefined ones and duplicate values', () => {
      spec
        .given([])
        .when(define({ when: { department: 'Engineering', location: { in: ['London', 'Paris', 'London'] }, title: undefined, groups: 'vpn-users' } }))
        .then([birthrightRuleDefined({ when: { department: 'Engineering', location: { in: ['London', 'Paris'] }, groups: 'vpn-users' } })]);
    });

    it.each<[string, BirthrightWhen]>([
      ['an empty condition object', {}],
      ['only undefined conditions', { department: undefined }],
    ])('refuses a rule without conditions: %s', (_description, when) => {
      spec
        .given([])
        .when(define({ when }))
        .thenThrows(RuleWithoutConditions, (error) => expect(error).toMatchObject({ key: 'engineering-staff', code: 'rule-without-conditions' }));
    });

    it.each<[string, unknown, string]>([
      ['all set to false', { all: false }, 'when.all'],
      ['all beside another condition', { all: true, department: 'Sales' }, 'when.all'],
      ['an unknown attribute', { manager: 'E1' }, 'when.manager'],
      ['a blank value', { department: ' ' }, 'when.department'],
      ['an empty in-list', { location: { in: [] } }, 'when.location'],
      ['an operator other than in', { title: { like: 'Eng%' } }, 'when.title'],
    ])('refuses malformed conditions: %s', (_description, when, field) => {
      spec
        .given([])
        .when(define({ when: when as BirthrightWhen }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual([field]));
    });

    it('refuses a rule that grants no role', () => {
      spec.given([]).when(define({ roles: [] })).thenThrows(ValidationFailed);
    });

    it('names every unknown role', () => {
      spec
        .given([])
        .when(define({ roles: ['engineer', 'ghost', 'phantom'] }))
        .thenThrows(UnknownReference, (error) => expect(error).toMatchObject({ kind: 'role', keys: ['ghost', 'phantom'] }));
    });

    it('cannot change a rule that is not defined', () => {
      spec.given([]).when(change()).thenThrows(NotDefined);
    });
  });

  describe('given a defined rule', () => {
    it('refuses to define the key again', () => {
      spec.given([birthrightRuleDefined()]).when(define()).thenThrows(AlreadyDefined);
    });

    it('records a change with the complete new definition', () => {
      spec
        .given([birthrightRuleDefined()])
        .when(change({ when: { department: { in: ['Engineering', 'Platform'] } }, roles: ['engineer', 'employee'] }))
        .then([
          {
            type: 'BirthrightRuleChanged',
            data: {
              key: 'engineering-staff',
              name: 'Engineering staff',
              when: { department: { in: ['Engineering', 'Platform'] } },
              roles: ['engineer', 'employee'],
              changedAt: LATER,
              changedBy: ADMIN,
            },
          },
        ]);
    });

    it('records nothing when nothing changes', () => {
      spec.given([birthrightRuleDefined()]).when(change()).then([]);
    });

    it('refuses a change to a rule without conditions', () => {
      spec.given([birthrightRuleDefined()]).when(change({ when: {} })).thenThrows(RuleWithoutConditions);
    });

    it('refuses a change to an unknown role', () => {
      spec.given([birthrightRuleDefined()]).when(change({ roles: ['ghost'] })).thenThrows(UnknownReference);
    });
  });
});
