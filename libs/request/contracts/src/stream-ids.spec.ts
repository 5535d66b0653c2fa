import { REQUEST_STREAM_PREFIXES, breakGlassStreamId, delegationStreamId, requestStreamId } from './stream-ids';

describe('stream ids', () => {
  it.each<[string, string, string, string]>([
    ['an access request', requestStreamId('req-1'), 'request-req-1', REQUEST_STREAM_PREFIXES.request],
    ['a break-glass use', breakGlassStreamId('bg-1'), 'break-glass-bg-1', REQUEST_STREAM_PREFIXES.breakGlass],
    ['an approver\'s delegations', delegationStreamId('id-bob'), 'delegation-id-bob', REQUEST_STREAM_PREFIXES.delegation],
  ])('names the stream of %s, under its category prefix', (_description, id, expected, prefix) => {
    expect(id).toBe(expected);
    expect(id.startsWith(prefix)).toBe(true);
  });

  it('no category prefix is the start of another (a subscription to one never sees the other)', () => {
    const prefixes = Object.values(REQUEST_STREAM_PREFIXES);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });
});
