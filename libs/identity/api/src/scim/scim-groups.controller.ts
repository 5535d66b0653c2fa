import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ScimGroups } from '@custos/identity/application';
import { Roles } from '@custos/platform/http';
import { ScimExceptionFilter, SCIM_CONTENT_TYPE } from './scim-exception.filter';
import { listQuery, scimContext, send } from './scim-request';
import { ApiScim, ApiScimBodyErrors, ApiScimErrors, ScimGroupAnswer, ScimGroupList } from './scim.responses';

const RESOURCE = { schema: { type: 'object', description: 'a SCIM Group (urn:ietf:params:scim:schemas:core:2.0:Group); members are User ids' } };
const PATCH_OP = { schema: { type: 'object', description: 'a SCIM PatchOp, e.g. {op: "add", path: "members", value: [{value: "<User id>"}]}' } };

/** SCIM 2.0 Groups: each Group's displayName is a `groups` attribute of its member identities. */
@ApiTags('scim')
@ApiScim()
@ApiBearerAuth()
@Roles('custos:hr', 'custos:admin')
@UseFilters(ScimExceptionFilter)
@Controller('scim/v2/Groups')
export class ScimGroupsController {
  constructor(@Inject(ScimGroups) private readonly groups: ScimGroups) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'List Groups (filter, startIndex, count, attributes, excludedAttributes)' })
  @ApiQuery({ name: 'filter', required: false, example: 'displayName eq "eng"' })
  @ApiQuery({ name: 'startIndex', required: false })
  @ApiQuery({ name: 'count', required: false })
  @ApiQuery({ name: 'attributes', required: false })
  @ApiQuery({ name: 'excludedAttributes', required: false })
  @ApiOkResponse({ type: ScimGroupList })
  @ApiScimErrors({ status: 400, description: 'an invalid filter (invalidFilter), count, startIndex or attributes (invalidValue)' }, 401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' })
  list(@Req() request: FastifyRequest) {
    return this.groups.list(listQuery(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'One Group' })
  @ApiOkResponse({ type: ScimGroupAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimErrors({ status: 400, description: 'invalid attributes or excludedAttributes (invalidValue)' }, 401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no Group has this id' })
  async get(@Param('id') id: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.get(id, scimContext(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Create a Group; its members get the group as an identity attribute' })
  @ApiBody(RESOURCE)
  @ApiCreatedResponse({ type: ScimGroupAnswer, headers: { ETag: { schema: { type: 'string' } }, Location: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 409, description: 'the Group was changed concurrently' })
  async create(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.create(body, scimContext(request)), { created: true });
  }

  @Put(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Replace a Group (name and members)' })
  @ApiBody(RESOURCE)
  @ApiOkResponse({ type: ScimGroupAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no Group has this id' }, { status: 409, description: 'the Group was changed concurrently' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async replace(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.replace(id, body, scimContext(request)));
  }

  @Patch(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Patch a Group: add / remove / replace members, rename' })
  @ApiBody(PATCH_OP)
  @ApiOkResponse({ type: ScimGroupAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no Group has this id' }, { status: 409, description: 'the Group was changed concurrently' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async patch(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.groups.patch(id, body, scimContext(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a Group; its members lose it' })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no Group has this id' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async delete(@Param('id') id: string, @Req() request: FastifyRequest): Promise<void> {
    await this.groups.delete(id, scimContext(request));
  }
}
