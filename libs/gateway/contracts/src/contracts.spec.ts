import { identityConcernedByGatewayEvent } from './session-events';
import { GATEWAY_STREAM_PREFIXES, sessionStreamId } from './stream-ids';

describe('gateway contracts', () => {
  it('keeps each session (or refused attempt) in a stream of its own', () => {
    expect(sessionStreamId('s-1')).toBe('session-s-1');
    expect(sessionStreamId('s-1').startsWith(GATEWAY_STREAM_PREFIXES[0])).toBe(true);
  });

  it('files every event of a session under its identity, and a refused attempt under nobody (its user is only what the client claimed)', () => {
    for (const name of ['SessionStarted', 'StatementsRecorded', 'SessionEnded', 'SessionMarkedIncomplete']) {
      expect(identityConcernedByGatewayEvent({ name, data: { sessionId: 's-1', identityId: 'ada' } })).toBe('ada');
    }
    expect(identityConcernedByGatewayEvent({ name: 'SessionRefused', data: { sessionId: 's-2', user: 'ada' } })).toBeUndefined();
    expect(identityConcernedByGatewayEvent({ name: 'StatementsRecorded', data: { sessionId: 's-1', identityId: 42 } })).toBeUndefined();
  });
});
