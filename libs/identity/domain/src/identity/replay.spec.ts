import type { IdentityEvent } from '@custos/identity/contracts';
import { identityDecider } from './index';
import type { IdentityState } from './state';
import {
  NOW,
  activateIdentity,
  hireIdentity,
  identityChangeSuperseded,
  identityHired,
  identityMoved,
  june,
  linkManager,
  moveIdentity,
  rehireIdentity,
  snapshot,
  terminateIdentity,
  assignGroups,
  correctIdentityAttributes,
} from '../testing/builders';

const fold = (events: IdentityEvent[]): IdentityState => events.reduce(identityDecider.evolve, identityDecider.initialState());

/** Runs commands one by one against the folded stream, as a command handler would, and returns the stream. */
function run(commands: Parameters<typeof identityDecider.decide>[0][]): IdentityEvent[] {
  const stream: IdentityEvent[] = [];
  for (const command of commands) stream.push(...identityDecider.decide(command, fold(stream)));
  return stream;
}

describe('identity replay', () => {
  it('leaves the state untouched when a change is superseded', () => {
    const state = fold([identityHired(), identityMoved({ title: 'Lead' })]);
    expect(identityDecider.evolve(state, identityChangeSuperseded())).toBe(state);
  });

  it('keeps the newer data after a stale mover', () => {
    const stream = run([
      hireIdentity({ effectiveAt: june(1), now: june(1) }),
      moveIdentity({ title: 'Lead', effectiveAt: june(10), now: june(10) }),
      moveIdentity({ title: 'Intern', department: 'Sales', effectiveAt: june(8), now: NOW }),
    ]);
    expect(stream.map((event) => event.type)).toEqual(['IdentityHired', 'IdentityMoved', 'IdentityChangeSuperseded']);
    const state = fold(stream);
    expect(state.kind).toBe('ActiveIdentity');
    expect(state.kind !== 'NoIdentity' && state.identity).toEqual(snapshot({ title: 'Lead' }));
  });

  it('walks a whole lifecycle to the state its events describe', () => {
    const stream = run([
      hireIdentity({ effectiveAt: june(3), now: june(1) }),
      activateIdentity({ now: june(3) }),
      activateIdentity({ now: june(4) }),
      moveIdentity({ department: 'Sales', effectiveAt: june(5), now: june(5) }),
      moveIdentity({ department: 'Sales', effectiveAt: june(6), now: june(6) }),
      assignGroups(['sales'], { effectiveAt: june(6), now: june(6) }),
      correctIdentityAttributes({ email: 'ada.l@example.com' }, { effectiveAt: june(6), now: june(6) }),
      linkManager({ managerId: 'id-grace', now: june(6) }),
      terminateIdentity({ effectiveAt: june(7), now: june(8) }),
      terminateIdentity({ effectiveAt: june(7), now: june(9) }),
      rehireIdentity({ department: 'Research', effectiveAt: june(12), now: june(10) }),
      activateIdentity({ now: june(12) }),
    ]);
    expect(stream.map((event) => event.type)).toEqual([
      'IdentityHired',
      'IdentityActivated',
      'IdentityMoved',
      'GroupsAssigned',
      'IdentityAttributesCorrected',
      'ManagerLinked',
      'IdentityTerminated',
      'IdentityRehired',
      'IdentityActivated',
    ]);
    expect(fold(stream)).toEqual({
      kind: 'ActiveIdentity',
      identity: snapshot({ department: 'Research', managerId: 'id-grace' }),
      recordAsOf: june(10),
      groupsAsOf: june(10),
      rehiredAsOf: june(10),
    });
  });

  it('produces events that survive a JSON round trip unchanged', () => {
    const stream = run([
      hireIdentity({ department: undefined, effectiveAt: june(1), now: june(1) }),
      moveIdentity({ department: 'Sales', location: undefined }),
      correctIdentityAttributes({ costCenter: null }),
      terminateIdentity(),
    ]);
    expect(JSON.parse(JSON.stringify(stream))).toStrictEqual(stream);
  });
});
