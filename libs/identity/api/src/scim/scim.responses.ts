import { applyDecorators } from '@nestjs/common';
import { ApiConsumes, ApiExtraModels, ApiProduces, ApiProperty, ApiPropertyOptional, ApiResponse, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { ApiErrorResponses, ErrorStatus, ProblemDetails } from '@custos/platform/http';

export const SCIM_MEDIA_TYPES = ['application/scim+json', 'application/json'];

/** A SCIM error (RFC 7644 section 3.12): what every SCIM route answers instead of problem details. */
@ApiSchema({ name: 'ScimError' })
export class ScimErrorAnswer {
  @ApiProperty({ type: [String], example: ['urn:ietf:params:scim:api:messages:2.0:Error'] }) schemas!: string[];
  @ApiProperty({ description: 'the HTTP status, as a string', example: '404' }) status!: string;
  @ApiPropertyOptional({ enum: ['invalidFilter', 'tooMany', 'uniqueness', 'mutability', 'invalidSyntax', 'invalidPath', 'noTarget', 'invalidValue', 'invalidVers', 'sensitive'] }) scimType?: string;
  @ApiProperty({ example: 'User 42 not found' }) detail!: string;
}

/** The SCIM routes read and answer SCIM media, and word their errors as SCIM errors. */
export function ApiScim(): ClassDecorator {
  return applyDecorators(ApiConsumes(...SCIM_MEDIA_TYPES), ApiProduces('application/scim+json'));
}

/** ApiScimErrors documents a SCIM route's error answers as SCIM errors. */
export function ApiScimErrors(...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator {
  return ApiErrorResponses({ model: ScimErrorAnswer, mediaTypes: ['application/scim+json'] }, ...statuses);
}

/**
 * The errors about the body of a SCIM write: SCIM errors, except that a body sent as
 * `application/json` is parsed by the platform first, which words its refusals as problem details.
 */
export function ApiScimBodyErrors(): MethodDecorator {
  const content = {
    'application/scim+json': { schema: { $ref: getSchemaPath(ScimErrorAnswer) } },
    'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetails) } },
  };
  return applyDecorators(
    ApiExtraModels(ScimErrorAnswer, ProblemDetails),
    ApiResponse({ status: 400, description: 'an invalid resource or PatchOp (scimType names why), or a body that is not JSON', content }),
    ApiResponse({ status: 413, description: 'the body is larger than the limit', content }),
    ApiResponse({ status: 415, description: 'an application/json body in an unsupported charset (problem details)', content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetails) } } } }),
  );
}

export class ScimMeta {
  @ApiProperty({ example: 'User' }) resourceType!: string;
  @ApiPropertyOptional({ format: 'date-time' }) created?: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastModified?: string;
  @ApiProperty({ description: 'its URL, under the configured public URL' }) location!: string;
  @ApiPropertyOptional({ example: 'W/"3"', description: 'the ETag' }) version?: string;
}

export class ScimName {
  @ApiPropertyOptional() givenName?: string;
  @ApiPropertyOptional() familyName?: string;
  @ApiPropertyOptional() formatted?: string;
}

export class ScimEmail {
  @ApiProperty() value!: string;
  @ApiPropertyOptional({ example: 'work' }) type?: string;
  @ApiPropertyOptional() primary?: boolean;
}

export class ScimEnterpriseUser {
  @ApiPropertyOptional({ description: 'the HR employee id' }) employeeNumber?: string;
  @ApiPropertyOptional() department?: string;
  @ApiPropertyOptional() costCenter?: string;
  @ApiPropertyOptional({ type: 'object', properties: { value: { type: 'string' } }, description: "the manager's User id" }) manager?: { value: string };
}

/** A SCIM User (core schema and the enterprise extension); `attributes` and `excludedAttributes` leave some out. */
@ApiSchema({ name: 'ScimUser' })
export class ScimUserAnswer {
  @ApiProperty({ type: [String] }) schemas!: string[];
  @ApiProperty({ description: 'the identity id' }) id!: string;
  @ApiPropertyOptional() externalId?: string;
  @ApiPropertyOptional({ example: 'ada@example.com' }) userName?: string;
  @ApiPropertyOptional({ type: ScimName }) name?: ScimName;
  @ApiPropertyOptional() displayName?: string;
  @ApiPropertyOptional({ example: 'Employee' }) userType?: string;
  @ApiPropertyOptional() title?: string;
  @ApiPropertyOptional({ description: 'false once a leaver' }) active?: boolean;
  @ApiPropertyOptional({ type: [ScimEmail] }) emails?: ScimEmail[];
  @ApiPropertyOptional({ name: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', type: ScimEnterpriseUser }) enterprise?: ScimEnterpriseUser;
  @ApiPropertyOptional({ type: ScimMeta }) meta?: ScimMeta;
}

export class ScimMember {
  @ApiProperty({ description: 'the User id' }) value!: string;
  @ApiPropertyOptional() display?: string;
  @ApiPropertyOptional({ name: '$ref' }) ref?: string;
  @ApiPropertyOptional({ example: 'User' }) type?: string;
}

@ApiSchema({ name: 'ScimGroup' })
export class ScimGroupAnswer {
  @ApiProperty({ type: [String] }) schemas!: string[];
  @ApiProperty() id!: string;
  @ApiPropertyOptional({ example: 'eng' }) displayName?: string;
  @ApiPropertyOptional({ type: [ScimMember] }) members?: ScimMember[];
  @ApiPropertyOptional({ type: ScimMeta }) meta?: ScimMeta;
}

class ScimListBase {
  @ApiProperty({ type: [String], example: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'] }) schemas!: string[];
  @ApiProperty() totalResults!: number;
  @ApiProperty() startIndex!: number;
  @ApiProperty() itemsPerPage!: number;
}

export class ScimUserList extends ScimListBase {
  @ApiProperty({ type: [ScimUserAnswer] }) Resources!: ScimUserAnswer[];
}

export class ScimGroupList extends ScimListBase {
  @ApiProperty({ type: [ScimGroupAnswer] }) Resources!: ScimGroupAnswer[];
}

/** A discovery resource (ServiceProviderConfig, Schema, ResourceType), as RFC 7643 sections 5-7 define it. */
export class ScimDiscoveryResource {
  @ApiProperty({ type: [String] }) schemas!: string[];
  @ApiPropertyOptional({ description: 'Schema and ResourceType only' }) id?: string;
  @ApiPropertyOptional({ type: ScimMeta }) meta?: ScimMeta;
}

export class ScimDiscoveryList extends ScimListBase {
  @ApiProperty({ type: [ScimDiscoveryResource], description: 'the resources with all their members (RFC 7643)' }) Resources!: ScimDiscoveryResource[];
}
