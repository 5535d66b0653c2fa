import { Body, Controller, Get, HttpCode, Inject, Param, Post, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiExtension, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ANSWERS_A_SECRET, ApiProblemResponses, CurrentPrincipal, forbidden, Principal, Roles } from '@custos/platform/http';
import { VaultService } from '@custos/privileged/application';
import { VaultAccountNotFound } from '@custos/privileged/domain';
import { CheckOutDto, EmptyBodyDto, RegisterVaultAccountDto } from './dto';
import { CheckOutDoc, VaultAccountDoc } from './responses';

const NOT_FOUND = { status: 404, description: 'no vault account under this key (vault-account-not-found)' };
const WRITE = [401, 413, 415] as const;

@ApiTags('privileged')
@ApiBearerAuth()
@Controller('vault/accounts')
export class VaultController {
  constructor(@Inject(VaultService) private readonly vault: VaultService) {}

  @Post()
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({
    summary:
      'Vault a shared privileged account on a registered target, linked to the entitlement whose holders may check it out. Custos rotates its password at once (status rotating until the target has it), so nobody knows it but the vault',
  })
  @ApiCreatedResponse({ type: VaultAccountDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input (errors name the field)' },
    ...WRITE,
    { status: 403, description: 'the token lacks custos:admin' },
    { status: 409, description: 'the key exists already (vault-account-already-registered)' },
    { status: 422, description: 'the target is not registered (unknown-target)' },
  )
  register(@Body() body: RegisterVaultAccountDto, @CurrentPrincipal() principal: Principal) {
    return this.vault.register(
      { key: body.key, target: body.target, username: body.username, entitlement: body.entitlement, ...(body.rotateEvery !== undefined && { rotateEvery: body.rotateEvery }) },
      { actor: principal.sub },
    );
  }

  @Get(':key')
  @ApiOperation({ summary: 'A vault account: who holds it until when, its rotation (pending, last success, last failure); never a password. Administrators, auditors and its current holder' })
  @ApiOkResponse({ type: VaultAccountDoc })
  @ApiProblemResponses(401, { status: 403, description: 'the caller is not its holder and lacks custos:admin and custos:auditor (also when there is no such account)' }, NOT_FOUND)
  async get(@Param('key') key: string, @CurrentPrincipal() principal: Principal) {
    const reader = principal.roles.includes('custos:admin') || principal.roles.includes('custos:auditor');
    // Whether a key exists is not told to those who may not read it.
    const account = await this.vault.get(key).catch((error: unknown) => {
      if (!reader && error instanceof VaultAccountNotFound) throw forbidden(`vault account ${key} is not yours to see`);
      throw error;
    });
    if (!reader && account.lease?.identityId !== principal.sub) throw forbidden(`vault account ${key} is not yours to see`);
    return account;
  }

  @Post(':key/checkout')
  @HttpCode(200)
  // The answer holds the password: the idempotency layer keeps no copy to replay (a repeat is another check-out, 409 while held).
  @SetMetadata(ANSWERS_A_SECRET, true)
  @ApiExtension('x-answers-a-secret', true)
  @ApiOperation({
    summary:
      'Check the account out: only with an active grant of its entitlement, one holder at a time, for a lease of at most PT8H that ends with the grant. The password is in this answer only (an Idempotency-Key is not taken: no copy is kept to replay); when the lease ends (check-in, expiry, the grant revoked) it is rotated',
  })
  @ApiOkResponse({ type: CheckOutDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a duration that is no ISO 8601 duration or over PT8H' },
    ...WRITE,
    { status: 403, description: 'the caller holds no active grant of the account\'s entitlement (no-active-grant)' },
    NOT_FOUND,
    { status: 409, description: 'someone holds it (already-checked-out) or its password is being rotated (rotation-pending)' },
    { status: 503, description: 'the entitlement service did not answer the grant check' },
  )
  checkOut(@Param('key') key: string, @Body() body: CheckOutDto, @CurrentPrincipal() principal: Principal) {
    return this.vault.checkOut(key, principal.sub, { ...(body.duration !== undefined && { duration: body.duration }), ...(body.reason !== undefined && { reason: body.reason }) }, { actor: principal.sub });
  }

  @Post(':key/checkin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give the account back, as its holder: the lease ends and the password is rotated, so the one shown never works again' })
  @ApiOkResponse({ type: VaultAccountDoc })
  @ApiProblemResponses(400, ...WRITE, NOT_FOUND, { status: 409, description: 'the caller holds no lease of it (not-checked-out)' })
  checkIn(@Param('key') key: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() principal: Principal) {
    return this.vault.checkIn(key, principal.sub, { actor: principal.sub });
  }

  @Post(':key/rotate')
  @HttpCode(200)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Rotate the password now (administrators): the new one is set on the target, then committed; GET shows it rotating until then' })
  @ApiOkResponse({ type: VaultAccountDoc })
  @ApiProblemResponses(400, ...WRITE, { status: 403, description: 'the token lacks custos:admin' }, NOT_FOUND, { status: 409, description: 'a rotation is pending already (rotation-pending)' })
  rotate(@Param('key') key: string, @Body() _body: EmptyBodyDto, @CurrentPrincipal() principal: Principal) {
    return this.vault.rotate(key, { actor: principal.sub });
  }
}
