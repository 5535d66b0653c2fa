import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ScimUsers } from '@custos/identity/application';
import { Roles } from '@custos/platform/http';
import { ScimExceptionFilter, SCIM_CONTENT_TYPE } from './scim-exception.filter';
import { listQuery, scimContext, send } from './scim-request';
import { ApiScim, ApiScimBodyErrors, ApiScimErrors, ScimUserAnswer, ScimUserList } from './scim.responses';

const RESOURCE = { schema: { type: 'object', description: 'a SCIM User (urn:ietf:params:scim:schemas:core:2.0:User, enterprise extension)' } };
const PATCH_OP = { schema: { type: 'object', description: 'a SCIM PatchOp: {schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [...]}' } };

/** SCIM 2.0 Users: joiner (POST), mover (PUT, PATCH; `active` leaver / rehire), leaver (DELETE). */
@ApiTags('scim')
@ApiScim()
@ApiBearerAuth()
@Roles('custos:hr', 'custos:admin')
@UseFilters(ScimExceptionFilter)
@Controller('scim/v2/Users')
export class ScimUsersController {
  constructor(@Inject(ScimUsers) private readonly users: ScimUsers) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'List Users: filter (eq ne co sw ew pr gt ge lt le, and or not, emails[type eq "work"]), startIndex, count, attributes, excludedAttributes' })
  @ApiQuery({ name: 'filter', required: false, example: 'userName eq "ada@example.com"' })
  @ApiQuery({ name: 'startIndex', required: false })
  @ApiQuery({ name: 'count', required: false })
  @ApiQuery({ name: 'attributes', required: false })
  @ApiQuery({ name: 'excludedAttributes', required: false })
  @ApiOkResponse({ type: ScimUserList })
  @ApiScimErrors({ status: 400, description: 'an invalid filter (invalidFilter), count, startIndex or attributes (invalidValue)' }, 401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' })
  list(@Req() request: FastifyRequest) {
    return this.users.list(listQuery(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'One User (ETag: W/"<identity stream version>")' })
  @ApiParam({ name: 'id', description: 'the identity id' })
  @ApiOkResponse({ type: ScimUserAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimErrors({ status: 400, description: 'invalid attributes or excludedAttributes (invalidValue)' }, 401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no User has this id' })
  async get(@Param('id') id: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.get(id, scimContext(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Create a User: a joiner (409 uniqueness on a taken userName)' })
  @ApiBody(RESOURCE)
  @ApiCreatedResponse({ type: ScimUserAnswer, headers: { ETag: { schema: { type: 'string' } }, Location: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 409, description: 'userName or externalId already taken (uniqueness)' })
  async create(@Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.create(body, scimContext(request)), { created: true });
  }

  @Put(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Replace a User: a mover; active false is a leaver, active true on a terminated User a rehire (If-Match honoured)' })
  @ApiBody(RESOURCE)
  @ApiOkResponse({ type: ScimUserAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no User has this id' }, { status: 409, description: 'userName or externalId already taken (uniqueness)' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async replace(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.replace(id, body, scimContext(request)));
  }

  @Patch(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Patch a User (Operations with or without path): a mover, leaver or rehire (If-Match honoured)' })
  @ApiBody(PATCH_OP)
  @ApiOkResponse({ type: ScimUserAnswer, headers: { ETag: { schema: { type: 'string' } } } })
  @ApiScimBodyErrors()
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no User has this id' }, { status: 409, description: 'userName or externalId already taken (uniqueness)' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async patch(@Param('id') id: string, @Body() body: unknown, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    return send(reply, await this.users.patch(id, body, scimContext(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a User: a leaver; the identity stays, terminated (If-Match honoured)' })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'the ETag the change expects; 412 when the resource has changed since' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiScimErrors(401, { status: 403, description: 'the token holds neither custos:hr nor custos:admin' }, { status: 404, description: 'no User has this id' }, { status: 412, description: 'If-Match names another version (preconditionFailed)' })
  async delete(@Param('id') id: string, @Req() request: FastifyRequest): Promise<void> {
    await this.users.delete(id, scimContext(request));
  }
}
