import { DomainError, domainErrorClasses, type Decider } from './index';
import { deciderSpec } from './testing';

describe('deciderSpec', () => {
  type Command = { type: 'Add'; amount: number };
  type Event = { type: 'Added'; data: { amount: number; total: number } };
  class LimitExceeded extends Error {
    constructor(readonly total: number) {
      super(`limit exceeded: ${total}`);
    }
  }
  const counter: Decider<Command, Event, { total: number }> = {
    initialState: () => ({ total: 0 }),
    decide: (command, state) => {
      const total = state.total + command.amount;
      if (total > 10) throw new LimitExceeded(total);
      return [{ type: 'Added', data: { amount: command.amount, total } }];
    },
    evolve: (_state, event) => ({ total: event.data.total }),
  };
  const spec = deciderSpec(counter);
  const added = (amount: number, total: number): Event => ({ type: 'Added', data: { amount, total } });

  it('then() passes when the command, on the state folded from the given events, decides exactly those events', () => {
    spec.given().when({ type: 'Add', amount: 2 }).then([added(2, 2)]);
    spec.given([added(3, 3), added(4, 7)]).when({ type: 'Add', amount: 1 }).then([added(1, 8)]);
  });

  it('then() fails when the decided events differ', () => {
    expect(() => spec.given([added(3, 3)]).when({ type: 'Add', amount: 1 }).then([added(1, 1)])).toThrow();
    expect(() => spec.given().when({ type: 'Add', amount: 1 }).then([])).toThrow();
  });

  it('thenThrows() passes on the expected domain error and hands it to the check', () => {
    const check = jest.fn((error: LimitExceeded) => expect(error.total).toBe(12));
    spec.given([added(9, 9)]).when({ type: 'Add', amount: 3 }).thenThrows(LimitExceeded, check);
    expect(check).toHaveBeenCalledTimes(1);
  });

  it('thenThrows() fails when nothing is thrown, another error type is thrown, or the check fails', () => {
    expect(() => spec.given().when({ type: 'Add', amount: 1 }).thenThrows(LimitExceeded)).toThrow();
    class OtherError extends Error {}
    expect(() => spec.given([added(9, 9)]).when({ type: 'Add', amount: 3 }).thenThrows(OtherError)).toThrow();
    expect(() =>
      spec
        .given([added(9, 9)])
        .when({ type: 'Add', amount: 3 })
        .thenThrows(LimitExceeded, (e) => expect(e.total).toBe(99)),
    ).toThrow();
  });
});

describe('DomainError', () => {
  class KeyTaken extends DomainError {
    static readonly code = 'key-taken';

    constructor(readonly key: string) {
      super(`${key} is taken`, { hint: 'pick another key' });
    }
  }
  class Nameless extends DomainError {}

  it('carries the code named on its class, its message, its own fields and optional details; no HTTP status', () => {
    const error = new KeyTaken('k1');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'KeyTaken', code: 'key-taken', message: 'k1 is taken', key: 'k1', details: { hint: 'pick another key' } });
    expect('httpStatus' in error).toBe(false);
  });

  it('refuses to be built without a code', () => {
    expect(() => new Nameless('no code')).toThrow(/Nameless names no static code/);
  });

  it('finds the domain error classes among a module\'s exports', () => {
    expect(domainErrorClasses({ KeyTaken, Nameless, DomainError, Error, notAClass: 'x', fn: () => 1 })).toEqual([KeyTaken, Nameless]);
  });
});
