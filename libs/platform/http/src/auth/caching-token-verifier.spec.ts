import { CachingTokenVerifier, DevTokenIssuer, TokenVerifier } from './token-verifier';

describe('CachingTokenVerifier', () => {
  let dev: DevTokenIssuer;
  let calls: number;
  let now: number;
  let counting: TokenVerifier;

  beforeAll(async () => {
    dev = await DevTokenIssuer.create();
  });

  beforeEach(() => {
    calls = 0;
    now = Date.now();
    counting = { verify: (token) => ((calls += 1), dev.verify(token)) };
  });

  it('checks a token once, then answers from memory for up to a minute', async () => {
    const verifier = new CachingTokenVerifier(counting, { now: () => now });
    const token = await dev.issue({ sub: 'hr-bot', roles: ['custos:hr'] });
    expect(await verifier.verify(token)).toEqual({ sub: 'hr-bot', email: undefined, roles: ['custos:hr'], amr: ['pwd'], issuer: DevTokenIssuer.ISSUER, authTime: expect.any(Number) });
    expect(await verifier.verify(token)).toEqual({ sub: 'hr-bot', email: undefined, roles: ['custos:hr'], amr: ['pwd'], issuer: DevTokenIssuer.ISSUER, authTime: expect.any(Number) });
    expect(calls).toBe(1);
    now += 60_001;
    await verifier.verify(token);
    expect(calls).toBe(2);
  });

  it('never trusts a remembered token past its exp', async () => {
    const verifier = new CachingTokenVerifier(counting, { now: () => now });
    const token = await dev.issue({ sub: 'u1' }, 5);
    await verifier.verify(token);
    now += 4_000;
    await verifier.verify(token);
    expect(calls).toBe(1);
    // Past exp by the cache's clock: the token goes back to the real check (which sees its own clock).
    now += 2_000;
    await verifier.verify(token);
    expect(calls).toBe(2);
  });

  it('remembers no failure, and hands out copies a caller cannot use to change the next answer', async () => {
    const verifier = new CachingTokenVerifier(counting, { now: () => now });
    await expect(verifier.verify('not-a-token')).rejects.toThrow();
    await expect(verifier.verify('not-a-token')).rejects.toThrow();
    expect(calls).toBe(2);
    const token = await dev.issue({ sub: 'u2', roles: ['custos:hr'] });
    (await verifier.verify(token)).roles.push('custos:admin');
    expect((await verifier.verify(token)).roles).toEqual(['custos:hr']);
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const verifier = new CachingTokenVerifier(counting, { now: () => now, maxEntries: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => dev.issue({ sub })));
    for (const t of [a, b, c]) await verifier.verify(t);
    await verifier.verify(c);
    await verifier.verify(b);
    expect(calls).toBe(3);
    await verifier.verify(a);
    expect(calls).toBe(4);
  });
});
