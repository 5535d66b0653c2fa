import type { SodPolicyEvent } from '@custos/entitlement/contracts';
import { AlreadyDefined, UnknownReference, ValidationFailed } from '../errors';
import { ADMIN, NOW, sodPolicyDefined } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { DefineSodPolicy, SodPolicyCommand } from './commands';
import { sodPolicyDecider } from './index';
import type { SodPolicyState } from './state';

const spec = deciderSpec<SodPolicyCommand, SodPolicyEvent, SodPolicyState>(sodPolicyDecider);

const define = (data: Partial<DefineSodPolicy['data']> = {}): DefineSodPolicy => ({
  type: 'DefineSodPolicy',
  data: {
    key: 'pay-vs-approve',
    name: 'Create vendors vs approve payments',
    conflicting: [['erp:vendor-create'], ['erp:payment-approve']],
    knownEntitlements: new Set(['erp:vendor-create', 'erp:payment-approve', 'erp:payment-release']),
    now: NOW,
    actor: ADMIN,
    ...data,
  },
});

describe('sod policy', () => {
  describe('given no policy', () => {
    it('defines it with mode prevent and severity high by default', () => {
      spec.given([]).when(define()).then([sodPolicyDefined()]);
    });

    it('keeps the given mode and severity', () => {
      spec
        .given([])
        .when(define({ mode: 'approve', severity: 'critical', conflicting: [['erp:vendor-create'], ['erp:payment-approve', 'erp:payment-release']] }))
        .then([sodPolicyDefined({ mode: 'approve', severity: 'critical', conflicting: [['erp:vendor-create'], ['erp:payment-approve', 'erp:payment-release']] })]);
    });

    it('names every unknown entitlement key', () => {
      spec
        .given([])
        .when(define({ conflicting: [['erp:vendor-create', 'erp:ghost'], ['erp:phantom']] }))
        .thenThrows(UnknownReference, (error) => expect(error).toMatchObject({ kind: 'entitlement', keys: ['erp:ghost', 'erp:phantom'] }));
    });

    it.each<[string, [string[], string[]], string[]]>([
      ['an empty first set', [[], ['erp:payment-approve']], ['conflicting[0]']],
      ['an empty second set', [['erp:vendor-create'], []], ['conflicting[1]']],
      ['a key on both sides', [['erp:vendor-create'], ['erp:vendor-create']], ['conflicting']],
    ])('refuses %s', (_description, conflicting, fields) => {
      spec
        .given([])
        .when(define({ conflicting }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(fields));
    });
  });

  describe('given a defined policy', () => {
    it('refuses to define the key again', () => {
      spec.given([sodPolicyDefined()]).when(define()).thenThrows(AlreadyDefined);
    });
  });
});
