import type { AccessEvent } from '@custos/entitlement/contracts';
import { fulfilledRequestKey, type AccessState } from './state';

/**
 * evolve: grants are added, extended and removed by id (an SoD exception goes with its grant); the
 * ledger of issued grants, fulfilled requests and flagged moves only grows; termination and
 * reinstatement switch the stage.
 */
export function evolve(state: AccessState, event: AccessEvent): AccessState {
  switch (event.type) {
    case 'AccessGranted': {
      const { identityId: _identityId, ...grant } = event.data;
      return {
        ...state,
        grants: [...state.grants, grant],
        issuedGrantIds: new Set(state.issuedGrantIds).add(grant.grantId),
        fulfilledRequests:
          grant.requestId === undefined
            ? state.fulfilledRequests
            : new Set(state.fulfilledRequests).add(fulfilledRequestKey(grant.requestId, grant.entitlement)),
      };
    }
    case 'AccessRevoked':
      return {
        ...state,
        grants: state.grants.filter((grant) => grant.grantId !== event.data.grantId),
        sodExceptions: dropException(state.sodExceptions, event.data.grantId),
      };
    case 'AccessExtended': {
      const { grantId, expiresAt } = event.data;
      return { ...state, grants: state.grants.map((grant) => (grant.grantId === grantId ? { ...grant, expiresAt } : grant)) };
    }
    case 'AccessTerminated':
      return { ...state, kind: 'TerminatedAccess', terminatedAt: event.data.at };
    case 'AccessReinstated': {
      if (state.kind !== 'TerminatedAccess') return state;
      const { terminatedAt: _terminatedAt, ...ledger } = state;
      return { ...ledger, kind: 'ActiveAccess' };
    }
    case 'MoverReviewFlagged':
      return { ...state, flaggedMoves: new Set(state.flaggedMoves).add(event.data.moveId) };
    case 'SodExceptionRecorded': {
      const { identityId: _identityId, ...exception } = event.data;
      return { ...state, sodExceptions: [...state.sodExceptions, exception] };
    }
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

function dropException(exceptions: AccessState['sodExceptions'], grantId: string): AccessState['sodExceptions'] {
  return exceptions.some((exception) => exception.grantId === grantId) ? exceptions.filter((exception) => exception.grantId !== grantId) : exceptions;
}
