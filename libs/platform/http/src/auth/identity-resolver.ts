import type { MessageBus } from '@custos/platform/messaging';
import { problem, ProblemException } from '../problem';
import type { Principal } from './principal';

/**
 * `rpc.identity.resolve-email`: which identity logs in with this address? The identity context
 * answers it from its own read model of identities; every service's AuthGuard asks it when
 * CUSTOS_OIDC_IDENTITY_FROM=email. The platform names the subject (it knows no context); the
 * identity context serves it.
 */
export const RESOLVE_EMAIL_RPC = 'rpc.identity.resolve-email';

/** What `rpc.identity.resolve-email` takes. */
export interface ResolveEmailRequest {
  email: string;
}

/**
 * Why an address names no identity: `unknown` (no identity has it), `inactive` (the only one that
 * has it has left or has not started yet), `ambiguous` (more than one identity that is not a
 * leaver has it: none is chosen).
 */
export type UnresolvedReason = 'unknown' | 'inactive' | 'ambiguous';

/** What `rpc.identity.resolve-email` answers: the identity id, or null and why not. */
export type EmailResolution = { identityId: string } | { identityId: null; reason: UnresolvedReason };

/** The port the AuthGuard maps a token's email to an identity through. */
export interface IdentityResolver {
  resolveEmail(email: string): Promise<EmailResolution>;
}

/**
 * The Nest token of an in-process IdentityResolver: a module that owns the identities (the
 * identity context) exports one, and the AuthGuard of a process serving it uses that instead of
 * asking the bus.
 */
export const IDENTITY_RESOLVER = Symbol('IDENTITY_RESOLVER');

/** The longest address taken (RFC 5321: 64 for the local part, 255 for the domain, and the @). */
export const MAX_EMAIL_LENGTH = 320;

/**
 * An address as identities are matched by it: trimmed, lower-cased (addresses are matched without
 * regard to case), NFC. Undefined for anything that is not one plausible address: not a string,
 * longer than MAX_EMAIL_LENGTH, without exactly one `@` between a local part and a domain, or with
 * whitespace or control characters.
 */
export function normaliseEmail(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_EMAIL_LENGTH * 2) return undefined;
  const email = value.trim().normalize('NFC').toLowerCase();
  if (email.length === 0 || email.length > MAX_EMAIL_LENGTH) return undefined;
  if (/[\s\x00-\x1f\x7f]/.test(email)) return undefined;
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1) return undefined;
  return email;
}

/**
 * The address a `rpc.identity.resolve-email` request asks about (untrusted: any service on the bus
 * may ask); an Error with status 400 for anything else than `{ email: <address> }`.
 */
export function checkResolveEmailRequest(payload: unknown): string {
  const bad = (message: string) => Object.assign(new Error(message), { status: 400 });
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw bad('the request must be an object { email }');
  const keys = Object.keys(payload);
  if (keys.length !== 1 || keys[0] !== 'email') throw bad('the request must be { email } and nothing else');
  const email = normaliseEmail((payload as Record<string, unknown>)['email']);
  if (email === undefined) throw bad(`email must be one address of at most ${MAX_EMAIL_LENGTH} characters`);
  return email;
}

/** An answer of `rpc.identity.resolve-email` checked for shape: a malformed one is an error, never a resolution. */
function checkResolution(answer: unknown): EmailResolution {
  if (typeof answer === 'object' && answer !== null) {
    const { identityId, reason } = answer as { identityId?: unknown; reason?: unknown };
    if (typeof identityId === 'string' && identityId.length > 0 && identityId.length <= 200) return { identityId };
    if (identityId === null && (reason === 'unknown' || reason === 'inactive' || reason === 'ambiguous')) return { identityId: null, reason };
  }
  throw new Error(`${RESOLVE_EMAIL_RPC} answered something that is not a resolution`);
}

/** Asks the identity service over the bus (the services other than identity's own). */
export class BusIdentityResolver implements IdentityResolver {
  constructor(
    private readonly bus: Pick<MessageBus, 'request'>,
    private readonly timeoutMs = 5_000,
  ) {}

  async resolveEmail(email: string): Promise<EmailResolution> {
    return checkResolution(await this.bus.request(RESOLVE_EMAIL_RPC, { email } satisfies ResolveEmailRequest, { timeoutMs: this.timeoutMs }));
  }
}

export interface IdentityCacheOptions {
  /** How long an address that resolved is remembered (default 60 s): a leaver's address stops resolving at most this long after the identity context records the leave. */
  positiveMs?: number;
  /** How long an address that did not resolve is remembered (default 5 s), so that a new joiner can log in moments after HR records them. */
  negativeMs?: number;
  /** Addresses remembered at most (default 10,000; the oldest goes first). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Remembers resolutions for a short while, and asks once for concurrent lookups of one address
 * (single flight): a burst of requests from one user after a login costs one question to the
 * identity service. A failed lookup (the identity service down) is never remembered.
 */
export class CachingIdentityResolver implements IdentityResolver {
  private readonly cache = new Map<string, { resolution: EmailResolution; until: number }>();
  private readonly inFlight = new Map<string, Promise<EmailResolution>>();
  private readonly positiveMs: number;
  private readonly negativeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: IdentityResolver,
    options: IdentityCacheOptions = {},
  ) {
    this.positiveMs = options.positiveMs ?? 60_000;
    this.negativeMs = options.negativeMs ?? 5_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  resolveEmail(email: string): Promise<EmailResolution> {
    const key = normaliseEmail(email) ?? email;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.resolution);
    if (hit) this.cache.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const lookup = this.inner.resolveEmail(key).then(
      (resolution) => {
        this.inFlight.delete(key);
        const ttl = resolution.identityId === null ? this.negativeMs : this.positiveMs;
        if (ttl > 0) {
          if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
          this.cache.set(key, { resolution, until: this.now() + ttl });
        }
        return resolution;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      },
    );
    this.inFlight.set(key, lookup);
    return lookup;
  }

  /** Forgets one address (or all): the next lookup asks again. */
  forget(email?: string): void {
    if (email === undefined) this.cache.clear();
    else this.cache.delete(normaliseEmail(email) ?? email);
  }
}

const UNRESOLVED_DETAIL: Record<UnresolvedReason, string> = {
  unknown: 'no identity has this address: HR must record it as the employee\'s email, or the identity provider must send the address HR knows',
  inactive: 'the identity with this address is not active (it has left, or has not started yet)',
  ambiguous: 'more than one identity has this address, so it names none: HR must give each employee an address of their own',
};

/**
 * The principal as Custos knows it when identities are taken from the email claim
 * (CUSTOS_OIDC_IDENTITY_FROM=email): a token with an address acts as the one active identity with
 * that address (its id becomes `sub`; the address stays in `email`). A token without one (a
 * machine client, a connector token) keeps its own `sub`. An address that names no active
 * identity, or one the provider says is not verified, is a 403 `no-identity` problem naming only
 * the address; an identity service that does not answer is a 503.
 */
export async function identifyByEmail(principal: Principal, resolver: IdentityResolver): Promise<Principal> {
  if (principal.email === undefined) return principal;
  const refuse = (detail: string) => new ProblemException(problem(403, 'no-identity', detail));
  const email = normaliseEmail(principal.email);
  if (email === undefined) throw refuse('the token\'s email claim is not one address');
  if (principal.emailVerified === false) throw refuse(`the identity provider says ${email} is not verified: verify it there, then log in again`);
  let resolution: EmailResolution;
  try {
    resolution = await resolver.resolveEmail(email);
  } catch {
    throw new ProblemException(problem(503, 'unavailable', 'the identity service did not answer which identity this login is; try again shortly'));
  }
  if (resolution.identityId === null) throw refuse(`${email}: ${UNRESOLVED_DETAIL[resolution.reason]}`);
  return { ...principal, sub: resolution.identityId, email };
}
