import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { problem, ProblemException, unauthenticated } from '../problem';
import { FailedAuthLimiter } from './failed-auth-limiter';
import { identifyByEmail, type IdentityResolver } from './identity-resolver';
import type { Principal } from './principal';
import { DEFAULT_STEP_UP, judgeStepUp, type StepUpSettings } from './step-up';
import { DevTokenIssuer, type TokenVerifier } from './token-verifier';

const PUBLIC = 'custos:public';
const ROLES = 'custos:roles';

/** Marks a route that needs no token (health, metrics, docs, the dev issuer). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Restricts a route to callers holding any of these roles. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES, roles);
/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<FastifyRequest & { principal: Principal }>().principal;
});

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/**
 * Every route needs a valid bearer token unless marked @Public; @Roles narrows it further. The
 * caller's `mfa` (or a configured `acr`) counts for step-up only within `stepUp.maxAgeSec` of its
 * login (judgeStepUp; a number is that age alone). A
 * request that carried credentials the guard refused counts against its client address
 * (`request.ip`: the TCP peer, or the client a trusted proxy names); an address with too many
 * such failures is answered 429 until its window ends (FailedAuthLimiter). With an
 * `identities` resolver (CUSTOS_OIDC_IDENTITY_FROM=email) a token's address is mapped to the
 * identity it names before anything else looks at the caller (identifyByEmail).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly stepUp: StepUpSettings;
  /** What each route's decorators say, read once per handler: the reflector walks metadata maps on every call. */
  private readonly routes = new WeakMap<object, { type: object; isPublic: boolean; roles: string[] | undefined }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    stepUp: StepUpSettings | number = DEFAULT_STEP_UP,
    private readonly failures = new FailedAuthLimiter(),
    private readonly identities?: IdentityResolver,
  ) {
    this.stepUp = typeof stepUp === 'number' ? { ...DEFAULT_STEP_UP, maxAgeSec: stepUp } : stepUp;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.routeOf(context.getHandler(), context.getClass());
    if (route.isPublic) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { principal?: Principal | null }>();
    const client = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    this.failures.check(client);
    let authenticated: Principal;
    try {
      authenticated = await authenticateBearer(this.verifier, request.headers.authorization, request.socket.remoteAddress);
    } catch (error) {
      // A request without credentials is no attempt (a browser, a probe of the API's shape).
      if (request.headers.authorization !== undefined) this.failures.failed(client);
      throw error;
    }
    // A login the identity context does not know is no failed authentication: it is a 403, not counted.
    if (this.identities) authenticated = await identifyByEmail(authenticated, this.identities);
    const principal = judgeStepUp(authenticated, this.stepUp, Date.now());
    request.principal = principal;
    if (route.roles) requireRole(principal, route.roles);
    return true;
  }

  private routeOf(handler: object, type: object): { type: object; isPublic: boolean; roles: string[] | undefined } {
    const known = this.routes.get(handler);
    // A method inherited by two controllers is one function: the class is part of the answer.
    if (known?.type === type) return known;
    const targets = [handler, type] as Array<() => void>;
    const route = {
      type,
      isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC, targets) === true,
      roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES, targets),
    };
    this.routes.set(handler, route);
    return route;
  }
}

/** Whether a client address is this machine's own (IPv4 127/8, IPv6 ::1, or 127/8 mapped into IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\./i.test(address);
}

/**
 * The caller behind an `Authorization: Bearer` header; a 401 problem without a valid token. A
 * token of the development issuer is accepted only from a loopback client: the issuer hands out
 * any role to anyone who asks, so its tokens must not work from another machine even if one leaks.
 */
export async function authenticateBearer(verifier: TokenVerifier, authorization: string | undefined, remoteAddress: string | undefined): Promise<Principal> {
  const match = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!match) throw unauthenticated('a bearer token is required', false);
  let principal: Principal;
  try {
    principal = await verifier.verify(match[1]);
  } catch (error) {
    throw unauthenticated(`invalid token: ${(error as Error).message}`, true);
  }
  if (principal.issuer === DevTokenIssuer.ISSUER && !isLoopback(remoteAddress)) {
    throw unauthenticated('development tokens are accepted from this machine only', true);
  }
  return principal;
}

/** A 403 problem unless the caller holds one of `roles`. */
export function requireRole(principal: Principal, roles: string[]): void {
  if (!roles.some((role) => principal.roles.includes(role))) {
    throw new ProblemException(problem(403, 'forbidden', `requires one of the roles: ${roles.join(', ')}`));
  }
}
