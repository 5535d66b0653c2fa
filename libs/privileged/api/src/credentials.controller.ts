import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, CurrentPrincipal, forbidden, Principal } from '@custos/platform/http';
import { JitAccounts } from '@custos/privileged/application';
import { JitCredentialDoc } from './responses';

@ApiTags('privileged')
@ApiBearerAuth()
@Controller('access')
export class CredentialsController {
  constructor(@Inject(JitAccounts) private readonly jit: JitAccounts) {}

  @Get(':identityId/credentials/:grantId')
  @ApiOperation({
    summary:
      'The just-in-time database account of a target-linked grant, to its beneficiary only, once: a login role made for the grant, valid until the grant ends, member of the entitlement\'s targetRole. When the grant ends it is disabled, its sessions are terminated and it is dropped',
  })
  @ApiOkResponse({ type: JitCredentialDoc })
  @ApiProblemResponses(
    401,
    { status: 403, description: 'the caller is not the identity of the path, or not the grant\'s beneficiary (not-jit-beneficiary)' },
    { status: 404, description: 'the grant has no just-in-time account (jit-account-not-found)' },
    { status: 409, description: 'the account is still being made on the target (credential-not-ready): ask again in a moment' },
    { status: 410, description: 'the credential was delivered already, or the grant has ended (credential-gone)' },
  )
  credential(@Param('identityId') identityId: string, @Param('grantId') grantId: string, @CurrentPrincipal() principal: Principal) {
    if (principal.sub !== identityId) throw forbidden('a just-in-time credential is delivered to its beneficiary only');
    return this.jit.deliver(identityId, grantId, { actor: principal.sub });
  }
}
