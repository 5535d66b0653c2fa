import {
  busNamespace,
  contextEventsFilter,
  contextStreamName,
  deadLetterStreamName,
  deadLetterSubject,
  eventNameOf,
  eventSubject,
  rpcSubject,
  streamName,
  subjectToken,
} from './naming';

describe('bus naming', () => {
  it.each([
    ['event subject', eventSubject('', 'identity', 'IdentityHired'), 'evt.identity.IdentityHired'],
    ['event subject, namespaced', eventSubject('t4f2a', 'identity', 'IdentityHired'), 't4f2a.evt.identity.IdentityHired'],
    ['context filter', contextEventsFilter('', 'identity'), 'evt.identity.>'],
    ['context stream', contextStreamName('', 'identity'), 'CUSTOS_IDENTITY'],
    ['context stream, namespaced', contextStreamName('t4f2a', 'identity'), 'T4F2A_CUSTOS_IDENTITY'],
    ['rpc subject', rpcSubject('', 'entitlement', 'check'), 'rpc.entitlement.check'],
    ['rpc subject, namespaced', rpcSubject('t4f2a', 'entitlement', 'check'), 't4f2a.rpc.entitlement.check'],
    ['a stream a context names', streamName('', 'CUSTOS_HR'), 'CUSTOS_HR'],
    ['a stream a context names, namespaced', streamName('t4f2a', 'CUSTOS_HR'), 'T4F2A_CUSTOS_HR'],
    ['a subject token', subjectToken('HR system', 'sap-hr_2'), 'sap-hr_2'],
    ['dead-letter subject', deadLetterSubject('', 'entitlement-birthright'), 'dlq.entitlement-birthright'],
    ['dead-letter stream', deadLetterStreamName('t4f2a'), 'T4F2A_CUSTOS_DLQ'],
  ])('%s', (_, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it.each([
    ['a dot in a context', () => eventSubject('', 'iden.tity', 'IdentityHired')],
    ['a wildcard in an event name', () => eventSubject('', 'identity', '*')],
    ['a space in a namespace', () => contextStreamName('t 1', 'identity')],
    ['a dot in a durable', () => deadLetterSubject('', 'a.b')],
  ])('refuses %s, which would change what a subject matches', (_, name) => {
    expect(name).toThrow(/invalid/);
  });

  it('reads the namespace from CUSTOS_NAMESPACE, empty when unset', () => {
    expect(busNamespace({ CUSTOS_NAMESPACE: 'ci42' })).toBe('ci42');
    expect(busNamespace({})).toBe('');
    expect(() => busNamespace({ CUSTOS_NAMESPACE: 'a.b' })).toThrow(/invalid namespace/);
  });

  it('takes the event name from `name`, else from the CloudEvents type', () => {
    expect(eventNameOf({ name: 'IdentityHired', type: 'custos.identity.IdentityHired.v1' })).toBe('IdentityHired');
    expect(eventNameOf({ type: 'custos.identity.IdentityMoved.v2' })).toBe('IdentityMoved');
    expect(() => eventNameOf({ type: 'garbage' })).toThrow(/cannot derive/);
  });
});
