import { Body, Controller, Delete, Get, Header, HttpCode, Inject, Param, Patch, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ScimUsers } from '@custos/identity/application';
import { Roles } from '@custos/platform/http';
import { ScimExceptionFilter, SCIM_CONTENT_TYPE } from './scim-exception.filter';
import { listQuery, scimContext, send } from './scim-request';

const RESOURCE = { schema: { type: 'object', description: 'a SCIM User (urn:ietf:params:scim:schemas:core:2.0:User, enterprise extension)' } };
const PATCH_OP = { schema: { type: 'object', description: 'a SCIM PatchOp: {schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [...]}' } };

/** SCIM 2.0 Users: joiner (POST), mover (PUT, PATCH; `active` leaver / rehire), leaver (DELETE). */
@ApiTags('scim')
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
  list(@Req() request: Request) {
    return this.users.list(listQuery(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'One User (ETag: W/"<identity stream version>")' })
  @ApiParam({ name: 'id', description: 'the identity id' })
  async get(@Param('id') id: string, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.users.get(id, scimContext(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Create a User: a joiner (409 uniqueness on a taken userName)' })
  @ApiBody(RESOURCE)
  async create(@Body() body: unknown, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.users.create(body, scimContext(request)), { created: true });
  }

  @Put(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Replace a User: a mover; active false is a leaver, active true on a terminated User a rehire (If-Match honoured)' })
  @ApiBody(RESOURCE)
  async replace(@Param('id') id: string, @Body() body: unknown, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.users.replace(id, body, scimContext(request)));
  }

  @Patch(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  @ApiOperation({ summary: 'Patch a User (Operations with or without path): a mover, leaver or rehire (If-Match honoured)' })
  @ApiBody(PATCH_OP)
  async patch(@Param('id') id: string, @Body() body: unknown, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    return send(response, await this.users.patch(id, body, scimContext(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a User: a leaver; the identity stays, terminated (If-Match honoured)' })
  async delete(@Param('id') id: string, @Req() request: Request): Promise<void> {
    await this.users.delete(id, scimContext(request));
  }
}
