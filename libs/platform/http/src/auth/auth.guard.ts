import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { problem, ProblemException } from '../problem';
import type { Principal } from './principal';
import type { TokenVerifier } from './token-verifier';

const PUBLIC = 'custos:public';
const ROLES = 'custos:roles';

/** Marks a route that needs no token (health, metrics, docs, the dev issuer). */
export const Public = () => SetMetadata(PUBLIC, true);
/** Restricts a route to callers holding any of these roles. */
export const Roles = (...roles: string[]) => SetMetadata(ROLES, roles);
/** Injects the authenticated caller. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<Request & { principal: Principal }>().principal;
});

export const TOKEN_VERIFIER = Symbol('TOKEN_VERIFIER');

/** Every route needs a valid bearer token unless marked @Public; @Roles narrows it further. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) throw new ProblemException(problem(401, 'unauthenticated', 'a bearer token is required'));
    let principal: Principal;
    try {
      principal = await this.verifier.verify(match[1]);
    } catch (error) {
      throw new ProblemException(problem(401, 'unauthenticated', `invalid token: ${(error as Error).message}`));
    }
    request.principal = principal;
    const required = this.reflector.getAllAndOverride<string[] | undefined>(ROLES, targets);
    if (required && !required.some((role) => principal.roles.includes(role))) {
      throw new ProblemException(problem(403, 'forbidden', `requires one of the roles: ${required.join(', ')}`));
    }
    return true;
  }
}
