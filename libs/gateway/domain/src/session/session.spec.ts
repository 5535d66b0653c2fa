import type { RecordedStatement, SessionStarted } from '@custos/gateway/contracts';
import { deciderSpec } from '@custos/platform/domain/testing';
import { SessionAlreadyExists, SessionNotFound, SessionNotLive, StatementsOutOfOrder } from '../errors';
import { sessionDecider } from './index';

const now = '2026-12-05T10:00:00.000Z';
const sessionId = 's-1';

function started(overrides: Partial<SessionStarted['data']> = {}): SessionStarted {
  return {
    type: 'SessionStarted',
    data: {
      sessionId,
      identityId: 'ada',
      target: 'pg-prod',
      database: 'app',
      grantIds: ['g-1'],
      requestIds: ['r-1'],
      entitlements: ['pg-prod:readonly'],
      expiresAt: '2026-12-05T11:00:00.000Z',
      clientAddress: '10.0.0.7',
      upstreamUser: 'custos_0123456789ab',
      gatewayId: 'gw-a',
      startedAt: now,
      ...overrides,
    },
  };
}

function statement(seq: number, overrides: Partial<RecordedStatement> = {}): RecordedStatement {
  return { seq, protocol: 'simple', text: `SELECT ${seq}`, startedAt: now, durationMs: 1, command: 'SELECT', rows: 1, ...overrides };
}

const spec = deciderSpec(sessionDecider);

describe('a session that does not exist', () => {
  it('starts', () => {
    spec.given([]).when({ type: 'StartSession', data: started().data }).then([started()]);
  });

  it('records a refused attempt under its own id', () => {
    spec
      .given([])
      .when({ type: 'RefuseSession', data: { sessionId, user: 'ada', target: 'pg-prod', reason: 'replayed-token', clientAddress: '10.0.0.7', now } })
      .then([{ type: 'SessionRefused', data: { sessionId, user: 'ada', target: 'pg-prod', reason: 'replayed-token', clientAddress: '10.0.0.7', refusedAt: now } }]);
  });

  it('has no statements to record', () => {
    spec.given([]).when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1)] } }).thenThrows(SessionNotFound);
  });

  it('cannot end', () => {
    spec.given([]).when({ type: 'EndSession', data: { sessionId, reason: 'terminated', endedBy: 'sec', now } }).thenThrows(SessionNotFound);
  });
});

describe('a live session', () => {
  it('does not start twice', () => {
    spec.given([started()]).when({ type: 'StartSession', data: started().data }).thenThrows(SessionAlreadyExists);
  });

  it('records a batch of statements in order', () => {
    spec
      .given([started()])
      .when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1), statement(2)] } })
      .then([{ type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1), statement(2)] } }]);
  });

  it('records only what is new of a batch delivered again', () => {
    spec
      .given([started(), { type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1), statement(2)] } }])
      .when({ type: 'RecordStatements', data: { sessionId, statements: [statement(2), statement(3)] } })
      .then([{ type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(3)] } }]);
  });

  it('records nothing for a batch it has whole', () => {
    spec
      .given([started(), { type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1)] } }])
      .when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1)] } })
      .then([]);
  });

  it('refuses a gap: a lost statement is never papered over', () => {
    spec
      .given([started(), { type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1)] } }])
      .when({ type: 'RecordStatements', data: { sessionId, statements: [statement(3)] } })
      .thenThrows(StatementsOutOfOrder, (e) => {
        expect(e.expected).toBe(2);
        expect(e.got).toBe(3);
      });
  });

  it('ends with its reason, who ended it and how many statements it recorded', () => {
    spec
      .given([started(), { type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1), statement(2)] } }])
      .when({ type: 'EndSession', data: { sessionId, reason: 'grant-ended', endedBy: 'system:gateway', detail: 'grant g-1 expired', now } })
      .then([{ type: 'SessionEnded', data: { sessionId, identityId: 'ada', reason: 'grant-ended', endedBy: 'system:gateway', detail: 'grant g-1 expired', statements: 2, endedAt: now } }]);
  });

  it('is marked incomplete by the gateway that held it', () => {
    spec
      .given([started(), { type: 'StatementsRecorded', data: { sessionId, identityId: 'ada', statements: [statement(1)] } }])
      .when({ type: 'MarkSessionIncomplete', data: { sessionId, gatewayId: 'gw-a', now } })
      .then([{ type: 'SessionMarkedIncomplete', data: { sessionId, identityId: 'ada', gatewayId: 'gw-a', statements: 1, markedAt: now } }]);
  });

  it('is not marked incomplete by another gateway, which may not know it is alive', () => {
    spec.given([started()]).when({ type: 'MarkSessionIncomplete', data: { sessionId, gatewayId: 'gw-b', now } }).then([]);
  });
});

describe('an ended session', () => {
  const ended = { type: 'SessionEnded' as const, data: { sessionId, identityId: 'ada', reason: 'client-closed' as const, endedBy: 'ada', statements: 1, endedAt: now } };
  const history = [started(), { type: 'StatementsRecorded' as const, data: { sessionId, identityId: 'ada', statements: [statement(1)] } }, ended];

  it('ends once: a second end changes nothing', () => {
    spec.given(history).when({ type: 'EndSession', data: { sessionId, reason: 'terminated', endedBy: 'sec', now } }).then([]);
  });

  it('takes no new statement', () => {
    spec.given(history).when({ type: 'RecordStatements', data: { sessionId, statements: [statement(2)] } }).thenThrows(SessionNotLive);
  });

  it('takes a redelivered batch it already has without complaint', () => {
    spec.given(history).when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1)] } }).then([]);
  });

  it('is not marked incomplete', () => {
    spec.given(history).when({ type: 'MarkSessionIncomplete', data: { sessionId, gatewayId: 'gw-a', now } }).then([]);
  });
});

describe('a session marked incomplete', () => {
  it('takes no new statement and no end', () => {
    const history = [started(), { type: 'SessionMarkedIncomplete' as const, data: { sessionId, identityId: 'ada', gatewayId: 'gw-a', statements: 0, markedAt: now } }];
    spec.given(history).when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1)] } }).thenThrows(SessionNotLive);
    spec.given(history).when({ type: 'EndSession', data: { sessionId, reason: 'client-closed', endedBy: 'ada', now } }).then([]);
  });
});

describe('a refused attempt', () => {
  it('is no session', () => {
    const history = [{ type: 'SessionRefused' as const, data: { sessionId, user: 'ada', target: 'pg-prod', reason: 'invalid-token' as const, clientAddress: '::1', refusedAt: now } }];
    spec.given(history).when({ type: 'RecordStatements', data: { sessionId, statements: [statement(1)] } }).thenThrows(SessionNotFound);
    spec.given(history).when({ type: 'StartSession', data: started().data }).thenThrows(SessionAlreadyExists);
  });
});
