import type { SessionEvent } from '@custos/gateway/contracts';
import type { SessionState } from './state';

/** evolve: a session's state after one of its events. */
export function evolve(state: SessionState, event: SessionEvent): SessionState {
  switch (event.type) {
    case 'SessionStarted': {
      const { sessionId, identityId, target, gatewayId } = event.data;
      return { kind: 'live', sessionId, identityId, target, gatewayId, statements: 0 };
    }
    case 'StatementsRecorded': {
      if (state.kind !== 'live') return state;
      const last = event.data.statements[event.data.statements.length - 1];
      return { ...state, statements: last ? last.seq : state.statements };
    }
    case 'SessionEnded':
      return state.kind === 'live' ? { kind: 'ended', sessionId: state.sessionId, statements: state.statements, incomplete: false } : state;
    case 'SessionMarkedIncomplete':
      return state.kind === 'live' ? { kind: 'ended', sessionId: state.sessionId, statements: state.statements, incomplete: true } : state;
    case 'SessionRefused':
      return { kind: 'refused', sessionId: event.data.sessionId };
    default: {
      const never: never = event;
      return never;
    }
  }
}
