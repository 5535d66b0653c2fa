import { fold, type Decider } from '../decider';
import type { DomainEvent } from '../domain-event';

/**
 * Given/when/then specifications for deciders (STYLE.md): given past events, when a command,
 * then the new events, or a domain error. For specs only (it uses Jest's `expect`):
 * import it from `@custos/platform/domain/testing`.
 */
export function deciderSpec<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: Event[] = []) {
      return {
        when(command: Command) {
          const run = () => decider.decide(command, fold(decider, events));
          return {
            then(expected: Event[]) {
              expect(run()).toEqual(expected);
            },
            thenThrows<E extends Error>(errorType: new (...args: never[]) => E, check?: (error: E) => void) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown).toBeInstanceOf(errorType);
              check?.(thrown as E);
            },
          };
        },
      };
    },
  };
}
