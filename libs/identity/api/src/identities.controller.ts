import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IdentitiesView, IdentityView } from '@custos/identity/application';
import { identityStreamId } from '@custos/identity/contracts';
import type { EventStore } from '@custos/platform/event-store';
import { ApiProblemResponses, CurrentPrincipal, notFound, forbidden, Principal } from '@custos/platform/http';
import { IdentityAnswer, IdentityHistory, IdentityPage } from './identity.responses';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';

class IdentityListQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() employeeId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() email?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() department?: string;
  @ApiPropertyOptional({ enum: ['pending', 'active', 'terminated'] }) @IsOptional() @IsIn(['pending', 'active', 'terminated']) status?: string;
  @ApiPropertyOptional({ example: 'workday', description: "system of record: the HR system whose change hired (or rehired) the identity, as the item's systemOfRecord" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  system?: string;
  @ApiPropertyOptional({ description: 'cursor from the previous page' }) @IsOptional() @IsString() after?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

const DIRECTORY_READERS = ['custos:admin', 'custos:hr', 'custos:auditor'];

function mayRead(principal: Principal, identityId?: string): boolean {
  return principal.roles.some((r) => DIRECTORY_READERS.includes(r)) || (identityId !== undefined && principal.sub === identityId);
}

@ApiTags('identity')
@ApiBearerAuth()
@Controller('identities')
export class IdentitiesController {
  private readonly store: EventStore;

  constructor(
    @Inject(IdentitiesView) private readonly view: IdentitiesView,
    @Inject(CONTEXT_RUNTIME) runtime: ContextRuntime,
  ) {
    this.store = runtime.store;
  }

  @Get()
  @ApiOperation({ summary: 'Identities, filtered; admins, HR and auditors' })
  @ApiOkResponse({ type: IdentityPage })
  @ApiProblemResponses(400, 401, { status: 403, description: 'the token holds none of custos:admin, custos:hr, custos:auditor' })
  async list(@Query() q: IdentityListQuery, @CurrentPrincipal() principal: Principal): Promise<{ items: IdentityView[]; next: string | null }> {
    if (!mayRead(principal)) throw forbidden('listing identities requires custos:admin, custos:hr or custos:auditor');
    return this.view.list({ ...q, limit: q.limit ?? 100 });
  }

  @Get(':identityId')
  @ApiOperation({ summary: 'One identity (yourself, or any with admin, HR or auditor roles)' })
  @ApiOkResponse({ type: IdentityAnswer })
  @ApiProblemResponses(401, { status: 403, description: 'another identity, without custos:admin, custos:hr or custos:auditor' }, { status: 404, description: 'no identity has this id' })
  async get(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal): Promise<IdentityView> {
    if (!mayRead(principal, identityId)) throw forbidden('you may read only your own identity');
    const identity = await this.view.get(identityId);
    if (!identity) throw notFound(`identity ${identityId} does not exist`);
    return identity;
  }

  @Get(':identityId/history')
  @ApiOperation({ summary: 'Every lifecycle event of an identity with its effective and recorded times' })
  @ApiOkResponse({ type: IdentityHistory })
  @ApiProblemResponses(401, { status: 403, description: 'another identity, without custos:admin, custos:hr or custos:auditor' }, { status: 404, description: 'no identity has this id' })
  async history(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal) {
    if (!mayRead(principal, identityId)) throw forbidden('you may read only your own history');
    const events = await this.store.readStream(identityStreamId(identityId));
    if (events.length === 0) throw notFound(`identity ${identityId} does not exist`);
    return {
      identityId,
      items: events.map((e) => {
        const data = e.data as { effectiveAt?: string; recordedAt?: string; changes?: unknown; source?: unknown };
        return { version: e.streamversion, type: e.name, effectiveAt: data.effectiveAt ?? e.time, recordedAt: data.recordedAt ?? e.time, changes: data.changes, source: data.source, eventId: e.id, actor: e.actor };
      }),
    };
  }
}
