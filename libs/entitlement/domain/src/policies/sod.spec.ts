import type { SodConflict } from '@custos/entitlement/contracts';
import { evaluateSod, sodViolations, type SodEvaluation, type SodPolicyView } from './sod';

const payments: SodPolicyView = {
  key: 'pay-vs-approve',
  conflicting: [['erp:vendor-create', 'erp:vendor-edit'], ['erp:payment-approve']],
  mode: 'prevent',
  severity: 'critical',
};
const deploy: SodPolicyView = { key: 'dev-vs-deploy', conflicting: [['github:merge'], ['prod:deploy']], mode: 'approve', severity: 'medium' };
const policies = [payments, deploy];

const paymentConflict = (left: string[]): SodConflict => ({ policyKey: 'pay-vs-approve', mode: 'prevent', severity: 'critical', left, right: ['erp:payment-approve'] });
const deployConflict: SodConflict = { policyKey: 'dev-vs-deploy', mode: 'approve', severity: 'medium', left: ['github:merge'], right: ['prod:deploy'] };

describe('sodViolations', () => {
  it.each<[string, string[], SodConflict[]]>([
    ['nothing held violates nothing', [], []],
    ['one side alone violates nothing', ['erp:vendor-create', 'erp:vendor-edit'], []],
    ['one key of each side violates', ['erp:vendor-create', 'erp:payment-approve'], [paymentConflict(['erp:vendor-create'])]],
    ['every held key of each side is listed', ['erp:vendor-edit', 'erp:payment-approve', 'erp:vendor-create'], [paymentConflict(['erp:vendor-create', 'erp:vendor-edit'])]],
    ['two policies violated at once', ['erp:vendor-create', 'erp:payment-approve', 'github:merge', 'prod:deploy'], [paymentConflict(['erp:vendor-create']), deployConflict]],
    ['unrelated keys are ignored', ['slack:member', 'github:merge'], []],
  ])('%s', (_description, held, expected) => {
    expect(sodViolations(held, policies)).toEqual(expected);
  });
});

describe('evaluateSod', () => {
  it.each<[string, string[], string[], SodEvaluation]>([
    ['an addition without conflict is allowed', ['erp:vendor-create'], ['slack:member'], { outcome: 'allow', violations: [] }],
    ['an addition that completes a prevent policy is prevented', ['erp:vendor-create'], ['erp:payment-approve'], { outcome: 'prevent', violations: [paymentConflict(['erp:vendor-create'])] }],
    ['an addition that completes an approve policy needs approval', ['github:merge'], ['prod:deploy'], { outcome: 'approve', violations: [deployConflict] }],
    [
      'prevent outranks approve when both are created',
      ['erp:vendor-create', 'github:merge'],
      ['erp:payment-approve', 'prod:deploy'],
      { outcome: 'prevent', violations: [paymentConflict(['erp:vendor-create']), deployConflict] },
    ],
    ['both sides added at once are a conflict', [], ['erp:vendor-edit', 'erp:payment-approve'], { outcome: 'prevent', violations: [paymentConflict(['erp:vendor-edit'])] }],
    ['a conflict held already is not the addition doing', ['github:merge', 'prod:deploy'], ['slack:member'], { outcome: 'allow', violations: [] }],
    ['re-adding a held key creates nothing', ['github:merge', 'prod:deploy'], ['prod:deploy'], { outcome: 'allow', violations: [] }],
    [
      'adding to a side of a held conflict is counted',
      ['erp:vendor-create', 'erp:payment-approve'],
      ['erp:vendor-edit'],
      { outcome: 'prevent', violations: [paymentConflict(['erp:vendor-create', 'erp:vendor-edit'])] },
    ],
  ])('%s', (_description, held, additions, expected) => {
    expect(evaluateSod(held, additions, policies)).toEqual(expected);
  });
});
