import { IDENTITY_EVENT_NAMES, IDENTITY_STREAM_PREFIX, changesIdentity, identityStreamId } from './index';

describe('identity contracts', () => {
  it('names the stream of an identity identity-{identityId}', () => {
    expect(identityStreamId('7f3c')).toBe('identity-7f3c');
    expect(identityStreamId('7f3c').startsWith(IDENTITY_STREAM_PREFIX)).toBe(true);
  });

  it('lists each event name once', () => {
    expect(new Set(IDENTITY_EVENT_NAMES).size).toBe(IDENTITY_EVENT_NAMES.length);
    expect(IDENTITY_EVENT_NAMES).toContain('IdentityChangeSuperseded');
  });

  it('tells events that carry an identity snapshot from a superseded change', () => {
    const superseded = {
      type: 'IdentityChangeSuperseded',
      data: {
        identityId: 'a',
        change: { kind: 'terminate' },
        supersededBy: '2026-06-10T09:00:00Z',
        effectiveAt: '2026-06-05T09:00:00Z',
        recordedAt: '2026-06-15T09:00:00Z',
        source: { system: 'workday', channel: 'webhook' },
      },
    } as const;
    expect(changesIdentity(superseded)).toBe(false);
  });
});
