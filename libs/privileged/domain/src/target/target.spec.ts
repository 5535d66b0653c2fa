import type { TargetEvent } from '@custos/privileged/contracts';
import { deciderSpec } from '@custos/platform/domain/testing';
import { TargetAlreadyRegistered, TargetUnreachable, ValidationFailed } from '../errors';
import { ADMIN, NOW, targetRegistered } from '../testing/builders';
import type { RegisterTarget, TargetCommand } from './commands';
import { targetDecider } from './index';
import type { TargetState } from './state';

const spec = deciderSpec<TargetCommand, TargetEvent, TargetState>(targetDecider);
const register = (data: Partial<RegisterTarget['data']> = {}): RegisterTarget => ({
  type: 'RegisterTarget',
  data: { key: 'pg-prod', kind: 'postgresql', host: 'db.internal', port: 5432, database: 'app', adminUsername: 'custos_admin', verified: { ok: true }, now: NOW, actor: ADMIN, ...data },
});

describe('target', () => {
  describe('given no target', () => {
    it('registers one its connector reached, without its password', () => {
      spec.given([]).when(register()).then([targetRegistered()]);
    });

    it('refuses one the connector could not reach, with the connector\'s reason', () => {
      spec
        .given([])
        .when(register({ verified: { ok: false, reason: 'connection refused' } }))
        .thenThrows(TargetUnreachable, (error) => expect(error).toMatchObject({ target: 'pg-prod', reason: 'connection refused' }));
    });

    it('refuses a kind without a connector, a port out of range and a blank host, field by field', () => {
      spec
        .given([])
        .when(register({ kind: 'oracle' as never, port: 70000, host: ' ' }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['host', 'kind', 'port']));
    });
  });

  describe('given a registered target', () => {
    it('refuses the key again', () => {
      spec.given([targetRegistered()]).when(register()).thenThrows(TargetAlreadyRegistered);
    });

    it('records an unexplained account the reconciliation dropped', () => {
      spec
        .given([targetRegistered()])
        .when({ type: 'RecordUnexplainedAccountDropped', data: { key: 'pg-prod', username: 'custos_0123456789ab', sessionsTerminated: 1, now: NOW } })
        .then([{ type: 'UnexplainedAccountDropped', data: { key: 'pg-prod', username: 'custos_0123456789ab', sessionsTerminated: 1, droppedAt: NOW } }]);
    });
  });
});
