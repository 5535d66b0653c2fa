import { Controller, Get, Header, Inject, Param, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, resourceTypes, SCIM, schemaResource, ScimError, scimBaseUrl, serviceProviderConfig, USER_SCHEMA } from '@custos/identity/application';
import { Roles } from '@custos/platform/http';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import { ScimExceptionFilter, SCIM_CONTENT_TYPE } from './scim-exception.filter';
import { ApiScim, ApiScimErrors, ScimDiscoveryList, ScimDiscoveryResource } from './scim.responses';

const SCHEMAS = [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA];

function listOf(resources: Record<string, unknown>[]) {
  return { schemas: [SCIM.listResponse], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

/** SCIM 2.0 discovery (RFC 7644 section 4): what this service provider supports and the schemas it speaks. */
@ApiTags('scim')
@ApiScim()
@ApiBearerAuth()
@Roles('custos:hr', 'custos:admin')
@UseFilters(ScimExceptionFilter)
@Controller('scim/v2')
export class ScimDiscoveryController {
  /** Links point at the configured public URL, never at the request's Host header. */
  private readonly baseUrl: string;

  constructor(@Inject(CONTEXT_RUNTIME) runtime: ContextRuntime) {
    this.baseUrl = scimBaseUrl(runtime.publicUrl);
  }

  @Get('ServiceProviderConfig')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'What this SCIM service provider supports (PATCH, filter, ETag; no bulk, sort or password change)' })
  @ApiOkResponse({ type: ScimDiscoveryResource })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' })
  config() {
    return serviceProviderConfig(this.baseUrl);
  }

  @Get('Schemas')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'The User, EnterpriseUser and Group schemas' })
  @ApiOkResponse({ type: ScimDiscoveryList })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' })
  schemas() {
    return listOf(SCHEMAS.map((s) => schemaResource(s, this.baseUrl)));
  }

  @Get('Schemas/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'One schema by its URN' })
  @ApiOkResponse({ type: ScimDiscoveryResource })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no schema has this URN' })
  schema(@Param('id') id: string) {
    const schema = SCHEMAS.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (!schema) throw ScimError.notFound(`schema ${id} not found`);
    return schemaResource(schema, this.baseUrl);
  }

  @Get('ResourceTypes')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'The User and Group resource types' })
  @ApiOkResponse({ type: ScimDiscoveryList })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' })
  resourceTypes() {
    return listOf(resourceTypes(this.baseUrl));
  }

  @Get('ResourceTypes/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'One resource type (User or Group)' })
  @ApiOkResponse({ type: ScimDiscoveryResource })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'neither User nor Group' })
  resourceType(@Param('id') id: string) {
    const type = resourceTypes(this.baseUrl).find((t) => String(t.id).toLowerCase() === id.toLowerCase());
    if (!type) throw ScimError.notFound(`resource type ${id} not found`);
    return type;
  }
}
