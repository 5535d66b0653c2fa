import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CatalogPreview, CatalogService, CatalogView } from '@custos/entitlement/application';
import type { AccessPreview } from '@custos/entitlement/domain';
import type { BirthrightWhen } from '@custos/entitlement/contracts';
import { badRequest, CurrentPrincipal, notFound, Principal, Roles } from '@custos/platform/http';
import { BirthrightRuleChangeDto, BirthrightRuleDto, EntitlementChangeDto, EntitlementDto, PageQueryDto, RetireQueryDto, RoleChangeDto, RoleDto, SodPolicyDto } from './dto';

/** A page of a sorted list, with the cursor of the next page. */
function page<T>(items: T[], key: (item: T) => string, q: PageQueryDto): { items: T[]; next: string | null } {
  const limit = q.limit ?? 100;
  const sorted = items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)).filter((i) => !q.after || key(i) > q.after);
  const slice = sorted.slice(0, limit);
  return { items: slice, next: sorted.length > limit ? key(slice[slice.length - 1]) : null };
}

const meta = (principal: Principal) => ({ actor: principal.sub });

/**
 * The body of a PUT or preview without the fields GET returns beside the changeable ones: a
 * `key` is accepted when it is the path's (so a GET body can be sent back), refused otherwise.
 */
function withoutKey<T extends { key?: string }>(pathKey: string, body: T): Omit<T, 'key'> {
  const { key, ...rest } = body;
  if (key !== undefined && key !== pathKey) throw badRequest(`key ${key} differs from the key of the path, ${pathKey}: a key cannot change`, [{ field: 'key', message: `must equal ${pathKey}, the key of the path` }]);
  return rest;
}

const NOT_DEFINED = { status: 404, description: 'nothing is defined under this key' };
const KEY_DIFFERS = { status: 400, description: 'bad input; a `key` in the body that differs from the path (the body GET returns is accepted back)' };

/** A preview answer: every active identity whose birthright access would change, and how. */
function previewPage(items: AccessPreview[]): { items: AccessPreview[]; next: null } {
  return { items, next: null };
}

@ApiTags('catalog')
@ApiBearerAuth()
@Controller()
export class CatalogController {
  constructor(
    @Inject(CatalogService) private readonly service: CatalogService,
    @Inject(CatalogView) private readonly view: CatalogView,
    @Inject(CatalogPreview) private readonly preview: CatalogPreview,
  ) {}

  @Post('catalog/entitlements')
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Define an entitlement' })
  async defineEntitlement(@Body() body: EntitlementDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineEntitlement(body, meta(principal));
    return this.view.entitlement(body.key);
  }

  @Get('catalog/entitlements')
  @ApiOperation({ summary: 'The entitlement catalog' })
  async listEntitlements(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    const items = [...this.view.entitlements.keys()].map((k) => this.view.entitlement(k)).filter((e) => e !== undefined);
    return page(items, (e) => e.key, q);
  }

  @Get('catalog/entitlements/:key')
  async getEntitlement(@Param('key') key: string) {
    await this.view.catchUp();
    const entitlement = this.view.entitlement(key);
    if (!entitlement) throw notFound(`entitlement ${key} is not defined`);
    return entitlement;
  }

  @Put('catalog/entitlements/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change an entitlement: the fields given change, null clears an optional one; the body GET returns is accepted back (key and application must stay)' })
  @ApiResponse(KEY_DIFFERS)
  @ApiResponse(NOT_DEFINED)
  async changeEntitlement(@Param('key') key: string, @Body() body: EntitlementChangeDto, @CurrentPrincipal() principal: Principal) {
    const { application, ...changes } = withoutKey(key, body);
    await this.view.catchUp();
    const current = this.view.entitlement(key);
    if (application !== undefined && current !== undefined && application !== current.application) {
      throw badRequest(`the application of ${key} is ${current.application} and cannot change`, [{ field: 'application', message: `must equal ${current.application}: an application cannot change` }]);
    }
    await this.service.changeEntitlement({ ...changes, key }, meta(principal));
    return this.view.entitlement(key);
  }

  @Delete('catalog/entitlements/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Retire an entitlement: it can no longer be granted or referenced; its key is never reused' })
  async retireEntitlement(@Param('key') key: string, @Query() q: RetireQueryDto, @CurrentPrincipal() principal: Principal) {
    await this.service.retireEntitlement({ key, ...(q.reason !== undefined && { reason: q.reason }) }, meta(principal));
    const state = this.view.entitlements.get(key);
    return { key, status: 'retired', retiredAt: state?.status === 'retired' ? state.retiredAt : undefined };
  }

  @Post('roles')
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Define a role: a bundle of entitlements and roles' })
  async defineRole(@Body() body: RoleDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineRole({ ...body, roles: body.roles ?? [] }, meta(principal));
    return this.view.role(body.key);
  }

  @Put('roles/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change a role; every affected identity is re-evaluated; the body GET returns is accepted back' })
  @ApiResponse(KEY_DIFFERS)
  @ApiResponse(NOT_DEFINED)
  async changeRole(@Param('key') key: string, @Body() body: RoleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    await this.service.changeRole({ ...change, key, roles: change.roles ?? [] }, meta(principal));
    return this.view.role(key);
  }

  @Post('roles/:key/preview')
  @HttpCode(200)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Who would gain and lose which entitlements if the role read like this body (PUT body); changes nothing' })
  @ApiResponse(KEY_DIFFERS)
  @ApiResponse(NOT_DEFINED)
  async previewRole(@Param('key') key: string, @Body() body: RoleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    return previewPage(await this.preview.role({ ...change, key, roles: change.roles ?? [] }, meta(principal)));
  }

  @Get('roles')
  async listRoles(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    const items = [...this.view.roles.keys()].map((k) => this.view.role(k)).filter((r) => r !== undefined);
    return page(items, (r) => r.key, q);
  }

  @Get('roles/:key')
  async getRole(@Param('key') key: string) {
    await this.view.catchUp();
    const role = this.view.role(key);
    if (!role) throw notFound(`role ${key} is not defined`);
    return role;
  }

  @Post('birthright-rules')
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Define a birthright rule: identities matching `when` hold its roles' })
  async defineRule(@Body() body: BirthrightRuleDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineBirthrightRule({ ...body, when: body.when as BirthrightWhen }, meta(principal));
    return this.view.rule(body.key);
  }

  @Put('birthright-rules/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change a birthright rule; every identity is re-evaluated; the body GET returns is accepted back' })
  @ApiResponse(KEY_DIFFERS)
  @ApiResponse(NOT_DEFINED)
  async changeRule(@Param('key') key: string, @Body() body: BirthrightRuleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    await this.service.changeBirthrightRule({ ...change, key, when: change.when as BirthrightWhen }, meta(principal));
    return this.view.rule(key);
  }

  @Post('birthright-rules/:key/preview')
  @HttpCode(200)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Who would gain and lose which entitlements if the rule read like this body (PUT body); changes nothing' })
  @ApiResponse(KEY_DIFFERS)
  @ApiResponse(NOT_DEFINED)
  async previewRule(@Param('key') key: string, @Body() body: BirthrightRuleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    return previewPage(await this.preview.birthrightRule({ ...change, key, when: change.when as BirthrightWhen }, meta(principal)));
  }

  @Get('birthright-rules')
  async listRules(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    return page(this.view.ruleViews().map((r) => this.view.rule(r.key)!), (r) => r.key, q);
  }

  @Get('birthright-rules/:key')
  async getRule(@Param('key') key: string) {
    await this.view.catchUp();
    const rule = this.view.rule(key);
    if (!rule) throw notFound(`birthright rule ${key} is not defined`);
    return rule;
  }

  @Post('sod-policies')
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Define a separation-of-duties policy' })
  async defineSodPolicy(@Body() body: SodPolicyDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineSodPolicy(body, meta(principal));
    return this.view.sodPolicy(body.key);
  }

  @Get('sod-policies')
  async listSodPolicies(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    return page(this.view.sodPolicyViews().map((p) => this.view.sodPolicy(p.key)!), (p) => p.key, q);
  }

  @Get('sod-policies/:key')
  async getSodPolicy(@Param('key') key: string) {
    await this.view.catchUp();
    const policy = this.view.sodPolicy(key);
    if (!policy) throw notFound(`SoD policy ${key} is not defined`);
    return policy;
  }
}
