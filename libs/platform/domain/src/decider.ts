import type { DomainEvent } from './domain-event';

/**
 * An aggregate as a decider: fold its stream with `evolve` from `initialState`, then `decide`
 * what a command causes. Pure: no I/O, no clock (time comes in on the command). `decide`
 * returns the events, or throws a DomainError when the command breaks a rule; `evolve` trusts
 * the event (it was decided already), so replaying a stream never fails.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  initialState: () => State;
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
}

/** fold replays events onto a state (from `initialState` unless one is given). */
export function fold<Event extends DomainEvent, State>(decider: Pick<Decider<never, Event, State>, 'initialState' | 'evolve'>, events: readonly Event[], from: State = decider.initialState()): State {
  return events.reduce(decider.evolve, from);
}
