import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { toProblem } from '../problem.filter';
import { AuthGuard } from './auth.guard';
import { FailedAuthLimiter } from './failed-auth-limiter';
import {
  BusIdentityResolver,
  CachingIdentityResolver,
  checkResolveEmailRequest,
  identifyByEmail,
  normaliseEmail,
  RESOLVE_EMAIL_RPC,
  type EmailResolution,
  type IdentityResolver,
} from './identity-resolver';
import type { Principal } from './principal';

/** An identity directory the tests change: which address names which identity, and every question asked. */
function directory(entries: Record<string, EmailResolution>) {
  const asked: string[] = [];
  const gates: Array<() => void> = [];
  let gated = false;
  const resolver: IdentityResolver & { asked: string[]; hold(): void; release(): void } = {
    asked,
    hold: () => void (gated = true),
    release: () => {
      gated = false;
      gates.splice(0).forEach((open) => open());
    },
    async resolveEmail(email) {
      asked.push(email);
      if (gated) await new Promise<void>((open) => gates.push(open));
      if (email === 'down@example.com') throw new Error('no service answers rpc.identity.resolve-email');
      return entries[email] ?? { identityId: null, reason: 'unknown' };
    },
  };
  return resolver;
}

describe('normaliseEmail and the rpc.identity.resolve-email request', () => {
  it.each([
    [' Ada@Example.COM ', 'ada@example.com'],
    ['ada+custos@example.com', 'ada+custos@example.com'],
    ['e\u0301lise@example.com', '\u00e9lise@example.com'],
  ])('normalises %j to %j', (given, expected) => {
    expect(normaliseEmail(given)).toBe(expected);
  });

  it.each([[''], ['ada'], ['@example.com'], ['ada@'], ['a@b@c'], ['ada @example.com'], ['ada@exa\u0000mple.com'], [`${'a'.repeat(320)}@x`], [7], [null], [{}]])('refuses %j', (given) => {
    expect(normaliseEmail(given)).toBeUndefined();
  });

  it('takes { email } alone, with own properties only, and says what is wrong with status 400', () => {
    expect(checkResolveEmailRequest({ email: 'Ada@Example.com' })).toBe('ada@example.com');
    for (const bad of [null, 'ada@example.com', ['ada@example.com'], {}, { email: 'ada@example.com', extra: 1 }, { email: 'not an address' }, Object.create({ email: 'ada@example.com' }), { email: 'x'.repeat(100_000) + '@x' }]) {
      expect(() => checkResolveEmailRequest(bad)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('BusIdentityResolver', () => {
  it('asks rpc.identity.resolve-email and takes only a well-formed answer', async () => {
    const requests: unknown[] = [];
    const bus = (answer: unknown) => ({ request: async <T>(subject: string, payload: unknown) => (requests.push([subject, payload]), answer as T) });
    expect(await new BusIdentityResolver(bus({ identityId: 'id-1' })).resolveEmail('ada@example.com')).toEqual({ identityId: 'id-1' });
    expect(requests).toEqual([[RESOLVE_EMAIL_RPC, { email: 'ada@example.com' }]]);
    expect(await new BusIdentityResolver(bus({ identityId: null, reason: 'ambiguous' })).resolveEmail('x@example.com')).toEqual({ identityId: null, reason: 'ambiguous' });
    for (const malformed of [null, {}, { identityId: '' }, { identityId: 7 }, { identityId: null }, { identityId: null, reason: 'whatever' }]) {
      await expect(new BusIdentityResolver(bus(malformed)).resolveEmail('ada@example.com')).rejects.toThrow(/not a resolution/);
    }
  });
});

describe('CachingIdentityResolver', () => {
  let now = 0;
  const cached = (inner: IdentityResolver) => new CachingIdentityResolver(inner, { positiveMs: 60_000, negativeMs: 5_000, maxEntries: 3, now: () => now });
  beforeEach(() => {
    now = 1_000_000;
  });

  it('remembers an address that resolved for the positive lifetime, then asks again (a leaver stops resolving within it)', async () => {
    const entries: Record<string, EmailResolution> = { 'ada@example.com': { identityId: 'id-ada' } };
    const inner = directory(entries);
    const resolver = cached(inner);
    expect(await resolver.resolveEmail('Ada@Example.com')).toEqual({ identityId: 'id-ada' });
    entries['ada@example.com'] = { identityId: null, reason: 'inactive' };
    now += 59_999;
    expect(await resolver.resolveEmail('ada@example.com')).toEqual({ identityId: 'id-ada' });
    now += 1;
    expect(await resolver.resolveEmail('ada@example.com')).toEqual({ identityId: null, reason: 'inactive' });
    expect(inner.asked).toEqual(['ada@example.com', 'ada@example.com']);
  });

  it('remembers an address that did not resolve for the short negative lifetime only (a joiner logs in moments after HR records them)', async () => {
    const entries: Record<string, EmailResolution> = {};
    const inner = directory(entries);
    const resolver = cached(inner);
    expect(await resolver.resolveEmail('new@example.com')).toEqual({ identityId: null, reason: 'unknown' });
    entries['new@example.com'] = { identityId: 'id-new' };
    now += 4_999;
    expect(await resolver.resolveEmail('new@example.com')).toEqual({ identityId: null, reason: 'unknown' });
    now += 1;
    expect(await resolver.resolveEmail('new@example.com')).toEqual({ identityId: 'id-new' });
    expect(inner.asked).toHaveLength(2);
  });

  it('asks once for concurrent lookups of one address, and never remembers a failure', async () => {
    const inner = directory({ 'ada@example.com': { identityId: 'id-ada' } });
    const resolver = cached(inner);
    inner.hold();
    const answers = Promise.all([resolver.resolveEmail('ada@example.com'), resolver.resolveEmail('ADA@example.com'), resolver.resolveEmail(' ada@example.com')]);
    await new Promise((resolve) => setImmediate(resolve));
    inner.release();
    expect(await answers).toEqual([{ identityId: 'id-ada' }, { identityId: 'id-ada' }, { identityId: 'id-ada' }]);
    expect(inner.asked).toEqual(['ada@example.com']);

    const failures = await Promise.allSettled([resolver.resolveEmail('down@example.com'), resolver.resolveEmail('down@example.com')]);
    expect(failures.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    await expect(resolver.resolveEmail('down@example.com')).rejects.toThrow();
    expect(inner.asked.filter((e) => e === 'down@example.com')).toHaveLength(2);
  });

  it('keeps at most maxEntries addresses, the oldest going first, and forgets on request', async () => {
    const inner = directory({});
    const resolver = cached(inner);
    for (const name of ['a', 'b', 'c', 'd']) await resolver.resolveEmail(`${name}@example.com`);
    await resolver.resolveEmail('d@example.com');
    await resolver.resolveEmail('a@example.com');
    expect(inner.asked).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'a@example.com']);
    resolver.forget('D@example.com');
    await resolver.resolveEmail('d@example.com');
    expect(inner.asked).toHaveLength(6);
  });
});

describe('identifyByEmail', () => {
  const person: Principal = { sub: 'okta|00u1', email: 'Ada@Example.com', roles: [], amr: ['pwd'], issuer: 'https://idp' };
  const resolver = directory({
    'ada@example.com': { identityId: 'id-ada' },
    'bob@example.com': { identityId: null, reason: 'inactive' },
    'twins@example.com': { identityId: null, reason: 'ambiguous' },
  });
  const refusal = (principal: Principal) => identifyByEmail(principal, resolver).then(() => undefined, toProblem);

  it('acts as the identity the address names, keeping the address', async () => {
    expect(await identifyByEmail(person, resolver)).toEqual({ ...person, sub: 'id-ada', email: 'ada@example.com' });
  });

  it('leaves a token without an address (a machine client, a connector token) its own subject', async () => {
    const machine: Principal = { sub: 'custos-hr', roles: ['custos:hr'], amr: [], issuer: 'https://idp' };
    expect(await identifyByEmail(machine, resolver)).toBe(machine);
  });

  it.each([
    ['nobody@example.com', /nobody@example\.com: no identity has this address: HR must record it/],
    ['bob@example.com', /bob@example\.com: the identity with this address is not active/],
    ['twins@example.com', /twins@example\.com: more than one identity has this address/],
  ])('refuses %s with a 403 no-identity problem saying what to fix', async (email, detail) => {
    expect(await refusal({ ...person, email })).toMatchObject({ status: 403, type: 'urn:custos:problem:no-identity', detail: expect.stringMatching(detail) });
  });

  it('refuses an address the provider says is unverified, and one that is not an address, before asking', async () => {
    const before = resolver.asked.length;
    expect(await refusal({ ...person, emailVerified: false })).toMatchObject({ status: 403, type: 'urn:custos:problem:no-identity', detail: expect.stringMatching(/not verified/) });
    expect(await refusal({ ...person, email: 'not an address' })).toMatchObject({ status: 403, detail: "the token's email claim is not one address" });
    expect(resolver.asked.length).toBe(before);
    expect(await identifyByEmail({ ...person, emailVerified: true }, resolver)).toMatchObject({ sub: 'id-ada' });
  });

  it('answers 503 when the identity service does not answer', async () => {
    expect(await refusal({ ...person, email: 'down@example.com' })).toMatchObject({ status: 503, type: 'urn:custos:problem:unavailable' });
  });
});

describe('AuthGuard with identities from the email claim', () => {
  const attempt = (principal: Principal, identities?: IdentityResolver, failures = new FailedAuthLimiter({ limit: 1, windowSec: 60 })) => {
    const request: Record<string, unknown> = { headers: { authorization: 'Bearer t' }, ip: '10.0.0.9', socket: { remoteAddress: '10.0.0.9' } };
    const context = { getHandler: () => () => undefined, getClass: () => class {}, switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
    const guard = new AuthGuard(new Reflector(), { verify: async () => principal }, 900, failures, identities);
    return { request, activate: () => guard.canActivate(context) };
  };
  const ada: Principal = { sub: 'okta|00u1', email: 'ada@example.com', roles: [], amr: ['pwd'], issuer: 'https://idp' };
  const resolver = directory({ 'ada@example.com': { identityId: 'id-ada' } });

  it('puts the identity the address names on the request as the caller', async () => {
    const { request, activate } = attempt(ada, resolver);
    await activate();
    expect(request['principal']).toMatchObject({ sub: 'id-ada', email: 'ada@example.com' });
  });

  it('takes the subject as it is without a resolver (CUSTOS_OIDC_IDENTITY_FROM=sub)', async () => {
    const { request, activate } = attempt(ada);
    await activate();
    expect(request['principal']).toMatchObject({ sub: 'okta|00u1' });
  });

  it('refuses an unknown address with 403, not counted as a failed authentication (the token was valid)', async () => {
    const failures = new FailedAuthLimiter({ limit: 1, windowSec: 60 });
    for (let i = 0; i < 3; i++) {
      const refused = await attempt({ ...ada, email: 'eve@example.com' }, resolver, failures).activate().catch(toProblem);
      expect(refused).toMatchObject({ status: 403, type: 'urn:custos:problem:no-identity' });
    }
  });
});
