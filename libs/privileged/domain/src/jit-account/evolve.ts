import type { JitAccountEvent } from '@custos/privileged/contracts';
import type { JitAccountState } from './state';

/** evolve: requested, created, delivered once, ending, dropped. */
export function evolve(state: JitAccountState, event: JitAccountEvent): JitAccountState {
  switch (event.type) {
    case 'JitAccountRequested':
      return { kind: 'RequestedJitAccount', account: event.data };
    case 'JitAccountCreated':
      return state.kind === 'RequestedJitAccount' ? { kind: 'ActiveJitAccount', account: state.account, delivered: false } : state;
    case 'JitAccountExtended':
      return state.kind === 'RequestedJitAccount' || state.kind === 'ActiveJitAccount' ? { ...state, account: { ...state.account, expiresAt: event.data.expiresAt } } : state;
    case 'JitCredentialDelivered':
      return state.kind === 'ActiveJitAccount' ? { ...state, delivered: true } : state;
    case 'JitAccountEnding':
      return state.kind === 'NoJitAccount' ? state : { kind: 'EndingJitAccount', account: state.account, reason: event.data.reason };
    case 'JitAccountDropped':
      return state.kind === 'EndingJitAccount' ? { kind: 'DroppedJitAccount', account: state.account, reason: state.reason } : state;
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
