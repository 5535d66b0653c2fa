import { deciderSpec } from '@custos/platform/domain/testing';
import type { RequestEvent } from '@custos/request/contracts';
import { RequestNotApproved, ValidationFailed } from '../errors';
import { REQUEST_ID, at, extensionApproved, extensionRequested, fulfilledHistory, fulfilmentRefused, grantEnded, pendingOn, requestApproved } from '../testing/builders';
import type { RecordFulfilmentRefused, RequestCommand } from './commands';
import { requestDecider, statusOf } from './index';

const spec = deciderSpec(requestDecider);
const refuse = (data: Partial<RecordFulfilmentRefused['data']> = {}): RequestCommand => ({
  type: 'RecordFulfilmentRefused',
  data: { requestId: REQUEST_ID, round: 0, code: 'sod-violation', reason: 'separation of duties: pay-vs-approve-strict (erp:vendor-create, erp:payment-approve)', now: at(1), ...data },
});
const fold = (events: RequestEvent[]) => events.reduce(requestDecider.evolve, requestDecider.initialState());
const approved = (): RequestEvent[] => [...pendingOn(), requestApproved()];
const extensionAwaitingGrant = (): RequestEvent[] => [...fulfilledHistory(), extensionRequested(), extensionApproved()];

/** The entitlement context may refuse the grant of an approved round: the request does not wait for it forever. */
describe('a grant the entitlement context refuses', () => {
  it.each<[string, RequestEvent[], RequestCommand, RequestEvent[]]>([
    ['closes an approved request as refused, with the code and reason', approved(), refuse(), [fulfilmentRefused()]],
    ['closes an approved extension round; the access keeps its end', extensionAwaitingGrant(), refuse({ round: 1, code: 'identity-terminated', reason: 'gone' }), [
      fulfilmentRefused({ round: 1, code: 'identity-terminated', reason: 'gone' }),
    ]],
    ['records a repeat once', [...approved(), fulfilmentRefused()], refuse(), []],
    ['records nothing for a round granted since (a late refusal of a retried grant)', fulfilledHistory(), refuse(), []],
    ['records nothing for a round granted and ended since', [...fulfilledHistory(), grantEnded()], refuse(), []],
  ])('%s', (_description, given, command, expected) => {
    spec.given(given).when(command).then(expected);
  });

  it('leaves the request refused (final) and takes no grant afterwards', () => {
    const state = fold([...approved(), fulfilmentRefused()]);
    expect([state.kind, statusOf(state)]).toEqual(['RefusedRequest', 'refused']);
    expect(state).toMatchObject({ code: 'sod-violation', refusedAt: at(1) });
    spec.given([...approved(), fulfilmentRefused()]).when({ type: 'RecordFulfilment', data: { requestId: REQUEST_ID, round: 0, grants: [{ grantId: 'g', entitlement: 'e' }], now: at(2) } }).thenThrows(RequestNotApproved);
  });

  it('drops a refused extension round: the request stays fulfilled with its grant and end, and may be extended again', () => {
    const state = fold([...extensionAwaitingGrant(), fulfilmentRefused({ round: 1 })]);
    expect(state).toMatchObject({ kind: 'FulfilledRequest', expiresAt: at(4), lastRound: 1 });
    expect(state).not.toHaveProperty('extension');
  });

  it('ends the request when an extension\'s grant is refused after its grants ended meanwhile', () => {
    const state = fold([...extensionAwaitingGrant(), grantEnded({ endedAt: at(4) }), fulfilmentRefused({ round: 1, code: 'not-held', refusedAt: at(4, 1) })]);
    expect([state.kind, statusOf(state)]).toEqual(['EndedRequest', 'ended']);
    expect(state).toMatchObject({ endedAt: at(4, 1) });
  });

  it('refuses a refusal of a round that is not approved (409), or without code and reason (400)', () => {
    spec.given(pendingOn()).when(refuse()).thenThrows(RequestNotApproved);
    spec.given(approved()).when(refuse({ round: 1 })).thenThrows(RequestNotApproved);
    spec.given(approved()).when(refuse({ code: ' ', reason: '' })).thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['code', 'reason']));
  });

});
