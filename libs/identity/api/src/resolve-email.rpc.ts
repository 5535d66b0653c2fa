import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { IdentityEmailResolver } from '@custos/identity/application';
import { checkResolveEmailRequest, RESOLVE_EMAIL_RPC, type EmailResolution } from '@custos/platform/http';

/**
 * `rpc.identity.resolve-email`: the one active identity with this address, or why none (the
 * AuthGuard of every service asks it when CUSTOS_OIDC_IDENTITY_FROM=email). Any service on the bus
 * may ask; the request is checked as untrusted input (`{ email }` alone, one address of at most
 * 320 characters), a malformed one answered with status 400.
 */
@Controller()
export class ResolveEmailRpc {
  constructor(@Inject(IdentityEmailResolver) private readonly resolver: IdentityEmailResolver) {}

  @MessagePattern(RESOLVE_EMAIL_RPC)
  resolve(@Payload() payload: unknown): Promise<EmailResolution> {
    return this.resolver.resolveEmail(checkResolveEmailRequest(payload));
  }
}
