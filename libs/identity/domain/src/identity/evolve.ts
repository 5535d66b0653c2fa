import type { IdentityEvent } from '@custos/identity/contracts';
import { withSystemOfRecord } from './snapshot';
import type { IdentityState } from './state';
import { latest, timelinePosition } from './timeline';

/**
 * evolve folds one event into the state. It trusts the event (it was decided already) and
 * leaves the state alone for an event that cannot apply to it, so that replay never fails.
 * A snapshot recorded before snapshots named their system of record gets it from the hire or
 * rehire's source, or keeps the one the state knows (see withSystemOfRecord).
 */
export function evolve(state: IdentityState, event: IdentityEvent): IdentityState {
  switch (event.type) {
    case 'IdentityHired': {
      const { effectiveAt, recordedAt } = event.data;
      const identity = withSystemOfRecord(event.data.identity, event.data.source?.system);
      const asOf = timelinePosition(effectiveAt, recordedAt);
      const timeline = { identity, recordAsOf: asOf, groupsAsOf: asOf };
      return identity.status === 'pending'
        ? { kind: 'PendingIdentity', ...timeline, startsAt: effectiveAt }
        : { kind: 'ActiveIdentity', ...timeline };
    }
    case 'IdentityActivated': {
      if (state.kind !== 'PendingIdentity') return state;
      return {
        kind: 'ActiveIdentity',
        identity: withSystemOfRecord(event.data.identity, state.identity.systemOfRecord),
        recordAsOf: state.recordAsOf,
        groupsAsOf: state.groupsAsOf,
        rehiredAsOf: state.rehiredAsOf,
      };
    }
    case 'IdentityMoved': {
      if (state.kind === 'NoIdentity') return state;
      const { effectiveAt, recordedAt } = event.data;
      const identity = withSystemOfRecord(event.data.identity, state.identity.systemOfRecord);
      return { ...state, identity, recordAsOf: latest(state.recordAsOf, timelinePosition(effectiveAt, recordedAt)) };
    }
    case 'IdentityTerminated': {
      if (state.kind === 'NoIdentity') return state;
      const { effectiveAt, recordedAt } = event.data;
      const identity = withSystemOfRecord(event.data.identity, state.identity.systemOfRecord);
      return {
        kind: 'TerminatedIdentity',
        identity,
        recordAsOf: latest(state.recordAsOf, timelinePosition(effectiveAt, recordedAt)),
        groupsAsOf: state.groupsAsOf,
        rehiredAsOf: state.rehiredAsOf,
        terminatedAt: effectiveAt,
      };
    }
    case 'IdentityRehired': {
      if (state.kind === 'NoIdentity') return state;
      const { effectiveAt, recordedAt } = event.data;
      const identity = withSystemOfRecord(event.data.identity, event.data.source?.system);
      const asOf = timelinePosition(effectiveAt, recordedAt);
      const timeline = {
        identity,
        recordAsOf: latest(state.recordAsOf, asOf),
        groupsAsOf: latest(state.groupsAsOf, asOf),
        rehiredAsOf: asOf,
      };
      return identity.status === 'pending'
        ? { kind: 'PendingIdentity', ...timeline, startsAt: effectiveAt }
        : { kind: 'ActiveIdentity', ...timeline };
    }
    case 'IdentityAttributesCorrected':
    case 'ManagerLinked': {
      if (state.kind === 'NoIdentity') return state;
      return { ...state, identity: withSystemOfRecord(event.data.identity, state.identity.systemOfRecord) };
    }
    case 'GroupsAssigned': {
      if (state.kind === 'NoIdentity') return state;
      const { effectiveAt, recordedAt } = event.data;
      const identity = withSystemOfRecord(event.data.identity, state.identity.systemOfRecord);
      return { ...state, identity, groupsAsOf: latest(state.groupsAsOf, timelinePosition(effectiveAt, recordedAt)) };
    }
    case 'IdentityChangeSuperseded':
      return state;
    default: {
      const unhandled: never = event;
      throw new Error(`unknown identity event ${(unhandled as { type: string }).type}`);
    }
  }
}
