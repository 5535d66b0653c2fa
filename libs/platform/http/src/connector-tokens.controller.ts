import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, SetMetadata } from '@nestjs/common';
import { ApiCreatedResponse, ApiExtension, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { isoDurationEnd, LONGEST_DURATION } from '@custos/platform/domain';
import { ArrayNotEmpty, IsArray, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { CurrentPrincipal, Roles } from './auth/auth.guard';
import { CONNECTOR_ROLES, ConnectorTokens } from './auth/connector-tokens';
import type { Principal } from './auth/principal';
import { ApiProblemResponses } from './openapi';
import { badRequest, notFound } from './problem';

/**
 * Marks a write whose answer holds a secret shown once (a new token's value): the idempotency
 * interceptor leaves it alone, since keeping its answer to replay would keep the secret. A repeat
 * makes another one.
 */
export const ANSWERS_A_SECRET = 'custos:answers-a-secret';
const AnswersASecret = () => SetMetadata(ANSWERS_A_SECRET, true);

/** The default life of a connector token: rotate at least every 90 days. */
const DEFAULT_LIFE = 'P90D';

class CreateConnectorToken {
  @ApiProperty({ example: 'workday-production', description: 'what the token is for (shown in lists and in the log)' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ example: ['custos:hr'], description: `its roles, among ${CONNECTOR_ROLES.join(', ')} (default all of them)` })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(CONNECTOR_ROLES, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ example: 'P90D', description: `its life, an ISO 8601 duration of at most ${LONGEST_DURATION} (default ${DEFAULT_LIFE})` })
  @IsOptional()
  @IsString()
  expiresIn?: string;
}

class ConnectorTokenListed {
  @ApiProperty({ example: '9f2c4e1a7b3d5c60' }) id!: string;
  @ApiProperty({ example: 'workday-production' }) name!: string;
  @ApiProperty({ example: ['custos:hr'] }) roles!: string[];
  @ApiProperty({ example: 'admin-1' }) createdBy!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) revokedBy!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'when it was last accepted (to within a few seconds)' }) lastUsedAt!: string | null;
}

class ConnectorTokenCreated extends ConnectorTokenListed {
  @ApiProperty({ example: 'cst_9f2c4e1a7b3d5c60_…', description: 'the bearer token: shown this once, kept only as a hash' }) token!: string;
}

class ConnectorTokenList {
  @ApiProperty({ type: [ConnectorTokenListed] }) items!: ConnectorTokenListed[];
}

/**
 * Connector tokens (admin): bearer tokens for machines that cannot log in through OIDC, such as
 * an HR system posting to /hr/events or an identity provider's SCIM client. The caller they name
 * is `connector:<id>`, which is what the events they cause record as their actor.
 */
@ApiTags('admin')
@Controller('admin/tokens')
@Roles('custos:admin')
export class ConnectorTokensController {
  constructor(@Inject(ConnectorTokens) private readonly tokens: ConnectorTokens) {}

  @Post()
  @HttpCode(201)
  @AnswersASecret()
  @ApiExtension('x-answers-a-secret', true)
  @ApiOperation({ summary: 'Create a connector token (admin): its value is in this answer only; an Idempotency-Key is not taken (a repeat makes another token)' })
  @ApiCreatedResponse({ type: ConnectorTokenCreated })
  @ApiProblemResponses(400, 401, 403, 413, 415)
  async create(@Body() body: CreateConnectorToken, @CurrentPrincipal() principal: Principal): Promise<ConnectorTokenCreated> {
    const life = body.expiresIn ?? DEFAULT_LIFE;
    const now = Date.now();
    const end = isoDurationEnd(now, life);
    if ('problem' in end) {
      const message = end.problem === 'invalid' ? `not a positive ISO 8601 duration: ${life}` : `must be at most ${LONGEST_DURATION}: ${life}`;
      throw badRequest(`invalid request: expiresIn`, [{ field: 'expiresIn', message }]);
    }
    return this.tokens.create({ name: body.name, roles: body.roles ?? [...CONNECTOR_ROLES], expiresAt: new Date(end.end) }, principal.sub);
  }

  @Get()
  @ApiOperation({ summary: 'List connector tokens (admin): never their values' })
  @ApiOkResponse({ type: ConnectorTokenList })
  @ApiProblemResponses(401, 403)
  async list(): Promise<ConnectorTokenList> {
    return { items: await this.tokens.list() };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a connector token (admin): refused from then on (within seconds on every replica)' })
  @ApiOkResponse({ type: ConnectorTokenListed })
  @ApiProblemResponses(401, 403, { status: 404, description: 'no token has this id' })
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal): Promise<ConnectorTokenListed> {
    const revoked = await this.tokens.revoke(id, principal.sub);
    if (!revoked) throw notFound(`no connector token ${id}`);
    return revoked;
  }
}
