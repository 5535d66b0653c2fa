import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CatalogPreview, CatalogService, CatalogView } from '@custos/entitlement/application';
import type { AccessPreview } from '@custos/entitlement/domain';
import type { BirthrightWhen } from '@custos/entitlement/contracts';
import { ApiProblemResponses, badRequest, CurrentPrincipal, notFound, Principal, Roles } from '@custos/platform/http';
import { AccessPreviewPage, BirthrightRuleAnswer, BirthrightRulePage, EntitlementAnswer, EntitlementPage, RetiredEntitlement, RoleAnswer, RolePage, SodPolicyAnswer, SodPolicyPage } from './responses';
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
const ALREADY_DEFINED = { status: 409, description: 'the key is already defined (or was, and is retired: keys are never reused)' };
const UNKNOWN_REFERENCE = { status: 422, description: 'refers to an entitlement or role that is not defined (unknown-reference), or makes roles include each other (role-cycle)' };
/** Every admin write: its body, its token and the admin role. */
const ADMIN_WRITE = [401, { status: 403, description: 'the token lacks custos:admin' }, 413, 415] as const;

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
  @ApiCreatedResponse({ type: EntitlementAnswer })
  @ApiProblemResponses(400, ...ADMIN_WRITE, ALREADY_DEFINED)
  async defineEntitlement(@Body() body: EntitlementDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineEntitlement(body, meta(principal));
    return this.view.entitlement(body.key);
  }

  @Get('catalog/entitlements')
  @ApiOperation({ summary: 'The entitlement catalog' })
  @ApiOkResponse({ type: EntitlementPage })
  @ApiProblemResponses(400, 401)
  async listEntitlements(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    const items = [...this.view.entitlements.keys()].map((k) => this.view.entitlement(k)).filter((e) => e !== undefined);
    return page(items, (e) => e.key, q);
  }

  @Get('catalog/entitlements/:key')
  @ApiOperation({ summary: 'One entitlement' })
  @ApiOkResponse({ type: EntitlementAnswer })
  @ApiProblemResponses(401, { status: 404, description: 'no entitlement is defined under this key, or it is retired' })
  async getEntitlement(@Param('key') key: string) {
    await this.view.catchUp();
    const entitlement = this.view.entitlement(key);
    if (!entitlement) throw notFound(`entitlement ${key} is not defined`);
    return entitlement;
  }

  @Put('catalog/entitlements/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change an entitlement: the fields given change, null clears an optional one; the body GET returns is accepted back (key and application must stay)' })
  @ApiOkResponse({ type: EntitlementAnswer })
  @ApiProblemResponses(KEY_DIFFERS, ...ADMIN_WRITE, NOT_DEFINED, { status: 409, description: 'the entitlement is retired' })
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
  @ApiOkResponse({ type: RetiredEntitlement, description: 'retired (again, if it already was: retiring is idempotent)' })
  @ApiProblemResponses(400, 401, { status: 403, description: 'the token lacks custos:admin' }, NOT_DEFINED)
  async retireEntitlement(@Param('key') key: string, @Query() q: RetireQueryDto, @CurrentPrincipal() principal: Principal) {
    await this.service.retireEntitlement({ key, ...(q.reason !== undefined && { reason: q.reason }) }, meta(principal));
    const state = this.view.entitlements.get(key);
    return { key, status: 'retired', retiredAt: state?.kind === 'RetiredEntitlement' ? state.retiredAt : undefined };
  }

  @Post('roles')
  @HttpCode(201)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Define a role: a bundle of entitlements and roles' })
  @ApiCreatedResponse({ type: RoleAnswer })
  @ApiProblemResponses(400, ...ADMIN_WRITE, ALREADY_DEFINED, UNKNOWN_REFERENCE)
  async defineRole(@Body() body: RoleDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineRole({ ...body, roles: body.roles ?? [] }, meta(principal));
    return this.view.role(body.key);
  }

  @Put('roles/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change a role; every affected identity is re-evaluated; the body GET returns is accepted back' })
  @ApiOkResponse({ type: RoleAnswer })
  @ApiProblemResponses(KEY_DIFFERS, ...ADMIN_WRITE, NOT_DEFINED, UNKNOWN_REFERENCE)
  async changeRole(@Param('key') key: string, @Body() body: RoleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    await this.service.changeRole({ ...change, key, roles: change.roles ?? [] }, meta(principal));
    return this.view.role(key);
  }

  @Post('roles/:key/preview')
  @HttpCode(200)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Who would gain and lose which entitlements if the role read like this body (PUT body); changes nothing' })
  @ApiOkResponse({ type: AccessPreviewPage })
  @ApiProblemResponses(KEY_DIFFERS, ...ADMIN_WRITE, NOT_DEFINED, UNKNOWN_REFERENCE)
  async previewRole(@Param('key') key: string, @Body() body: RoleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    return previewPage(await this.preview.role({ ...change, key, roles: change.roles ?? [] }, meta(principal)));
  }

  @Get('roles')
  @ApiOperation({ summary: 'The roles' })
  @ApiOkResponse({ type: RolePage })
  @ApiProblemResponses(400, 401)
  async listRoles(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    const items = [...this.view.roles.keys()].map((k) => this.view.role(k)).filter((r) => r !== undefined);
    return page(items, (r) => r.key, q);
  }

  @Get('roles/:key')
  @ApiOperation({ summary: 'One role' })
  @ApiOkResponse({ type: RoleAnswer })
  @ApiProblemResponses(401, NOT_DEFINED)
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
  @ApiCreatedResponse({ type: BirthrightRuleAnswer })
  @ApiProblemResponses(400, ...ADMIN_WRITE, ALREADY_DEFINED, UNKNOWN_REFERENCE)
  async defineRule(@Body() body: BirthrightRuleDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineBirthrightRule({ ...body, when: body.when as BirthrightWhen }, meta(principal));
    return this.view.rule(body.key);
  }

  @Put('birthright-rules/:key')
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Change a birthright rule; every identity is re-evaluated; the body GET returns is accepted back' })
  @ApiOkResponse({ type: BirthrightRuleAnswer })
  @ApiProblemResponses(KEY_DIFFERS, ...ADMIN_WRITE, NOT_DEFINED, UNKNOWN_REFERENCE)
  async changeRule(@Param('key') key: string, @Body() body: BirthrightRuleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    await this.service.changeBirthrightRule({ ...change, key, when: change.when as BirthrightWhen }, meta(principal));
    return this.view.rule(key);
  }

  @Post('birthright-rules/:key/preview')
  @HttpCode(200)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Who would gain and lose which entitlements if the rule read like this body (PUT body); changes nothing' })
  @ApiOkResponse({ type: AccessPreviewPage })
  @ApiProblemResponses(KEY_DIFFERS, ...ADMIN_WRITE, NOT_DEFINED, UNKNOWN_REFERENCE)
  async previewRule(@Param('key') key: string, @Body() body: BirthrightRuleChangeDto, @CurrentPrincipal() principal: Principal) {
    const change = withoutKey(key, body);
    return previewPage(await this.preview.birthrightRule({ ...change, key, when: change.when as BirthrightWhen }, meta(principal)));
  }

  @Get('birthright-rules')
  @ApiOperation({ summary: 'The birthright rules' })
  @ApiOkResponse({ type: BirthrightRulePage })
  @ApiProblemResponses(400, 401)
  async listRules(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    return page(this.view.ruleViews().map((r) => this.view.rule(r.key)!), (r) => r.key, q);
  }

  @Get('birthright-rules/:key')
  @ApiOperation({ summary: 'One birthright rule' })
  @ApiOkResponse({ type: BirthrightRuleAnswer })
  @ApiProblemResponses(401, NOT_DEFINED)
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
  @ApiCreatedResponse({ type: SodPolicyAnswer })
  @ApiProblemResponses(400, ...ADMIN_WRITE, ALREADY_DEFINED, { status: 422, description: 'refers to an entitlement that is not defined (unknown-reference)' })
  async defineSodPolicy(@Body() body: SodPolicyDto, @CurrentPrincipal() principal: Principal) {
    await this.service.defineSodPolicy(body, meta(principal));
    return this.view.sodPolicy(body.key);
  }

  @Get('sod-policies')
  @ApiOperation({ summary: 'The separation-of-duties policies' })
  @ApiOkResponse({ type: SodPolicyPage })
  @ApiProblemResponses(400, 401)
  async listSodPolicies(@Query() q: PageQueryDto) {
    await this.view.catchUp();
    return page(this.view.sodPolicyViews().map((p) => this.view.sodPolicy(p.key)!), (p) => p.key, q);
  }

  @Get('sod-policies/:key')
  @ApiOperation({ summary: 'One separation-of-duties policy' })
  @ApiOkResponse({ type: SodPolicyAnswer })
  @ApiProblemResponses(401, NOT_DEFINED)
  async getSodPolicy(@Param('key') key: string) {
    await this.view.catchUp();
    const policy = this.view.sodPolicy(key);
    if (!policy) throw notFound(`SoD policy ${key} is not defined`);
    return policy;
  }
}
