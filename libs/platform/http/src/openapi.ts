import { applyDecorators, INestApplication, Type } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse, DocumentBuilder, getSchemaPath, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, PathItemObject, ReferenceObject, ResponseObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** One invalid field of a request, as listed in a problem's `errors`. */
export class ProblemFieldError {
  @ApiProperty({ example: 'employee.email' }) field!: string;
  @ApiProperty({ example: 'employee.email must be an email' }) message!: string;
}

/**
 * RFC 9457 problem details: the body of every error outside SCIM. Some problem types carry
 * extension members beside these (a 409 the `key` it is about, a 422 the unknown `references`).
 */
export class ProblemDetails {
  @ApiProperty({ description: 'a stable URN per kind of problem, for clients to branch on', example: 'urn:custos:problem:validation' }) type!: string;
  @ApiProperty({ example: 'Bad Request' }) title!: string;
  @ApiProperty({ description: 'the HTTP status, repeated', example: 400 }) status!: number;
  @ApiPropertyOptional({ example: 'invalid request: employee.email' }) detail?: string;
  @ApiPropertyOptional({ type: [ProblemFieldError], description: 'each invalid field (validation problems)' }) errors?: ProblemFieldError[];
}

/** A status an error response is documented with, alone (the usual description) or with the route's own words. */
export type ErrorStatus = number | { status: number; description: string };

/** How a family of routes words its errors: one schema, served as these media types. */
export interface ErrorFormat {
  model: Type<unknown>;
  mediaTypes: string[];
}

export const PROBLEM_FORMAT: ErrorFormat = { model: ProblemDetails, mediaTypes: ['application/problem+json'] };

const USUAL: Record<number, string> = {
  400: 'bad input (a problem whose `errors` name each invalid field), or a body that is not JSON',
  401: 'no bearer token, or one that is invalid or expired',
  403: 'the token lacks the role this route needs',
  404: 'nothing exists under this id or key',
  409: 'conflicts with the current state',
  413: 'the request body is larger than the limit',
  415: 'the request body has an unsupported encoding or charset',
  422: 'refers to something unknown, or breaks a rule',
  429: 'too many failed authentications from this client address',
  503: 'a dependency is down',
};

/** ApiErrorResponses documents the error answers of a route, each with the format's one schema. */
export function ApiErrorResponses(format: ErrorFormat, ...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator {
  const schema = { $ref: getSchemaPath(format.model) };
  return applyDecorators(
    ApiExtraModels(format.model),
    ...statuses.map((entry) => {
      const { status, description } = typeof entry === 'number' ? { status: entry, description: USUAL[entry] ?? 'error' } : entry;
      return ApiResponse({ status, description, content: Object.fromEntries(format.mediaTypes.map((type) => [type, { schema }])) });
    }),
  );
}

/** ApiProblemResponses documents the error answers of a route as RFC 9457 problem details. */
export function ApiProblemResponses(...statuses: ErrorStatus[]): MethodDecorator & ClassDecorator {
  return ApiErrorResponses(PROBLEM_FORMAT, ...statuses);
}

/** The Swagger UI and the document itself: served by SwaggerModule beside the controllers. */
const DOCS_PATH = 'docs';
const DOCUMENT_PATH = 'docs-json';

const WRITES = ['post', 'put', 'patch', 'delete'] as const;

const IDEMPOTENCY_KEY: ParameterObject = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'at most 200 characters; the first answer to a write is kept (per caller and key, for 24 hours) and a repeat gets it again with `Idempotent-Replayed: true` instead of writing twice',
  schema: { type: 'string', maxLength: 200 },
};

const IDEMPOTENCY_ERRORS: Record<number, string> = {
  409: 'Idempotency-Key: a request with this key is still being answered',
  422: 'Idempotency-Key: the key was used for a different request',
};

/** Builds the OpenAPI document of an application: its controllers, plus what every route shares. */
export function buildOpenApiDocument(app: INestApplication, title: string): OpenAPIObject {
  const config = new DocumentBuilder()
      .setTitle(title)
      .setDescription(
      'Custos access governance: identity lifecycle, entitlements, requests and audit. Errors are RFC 9457 problem details (`application/problem+json`), except on SCIM routes, which answer SCIM errors (RFC 7644 section 3.12). Every write accepts an `Idempotency-Key`.',
    )
      .setVersion('0.1.0')
      .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
      .addServer('/', 'this server (behind an ingress: the public URL it is reached at)')
      .addBearerAuth()
      .addSecurityRequirements('bearer')
      .build();
  config.info.contact = { name: 'Custos maintainers' };
  const document = SwaggerModule.createDocument(app, config);
  const problemSchema = document.components?.schemas?.[ProblemDetails.name];
  // Problem types may add extension members (RFC 9457 section 3.2), which decorators cannot say.
  if (problemSchema && !('$ref' in problemSchema)) problemSchema.additionalProperties = true;
  addDocsRoutes(document);
  for (const item of Object.values(document.paths)) {
    for (const method of WRITES) {
      const operation = item[method];
      // A write whose answer holds a secret shown once takes no Idempotency-Key (its answer is never kept).
      if (operation && (operation as unknown as Record<string, unknown>)['x-answers-a-secret'] !== true) acceptIdempotencyKey(operation, document);
    }
    for (const method of ['get', ...WRITES] as const) {
      const operation = item[method];
      if (operation && (operation.security ?? document.security ?? []).some((requirement) => 'bearer' in requirement)) {
        limitFailedAuthentication(operation, document);
        identifyByEmailMayRefuse(operation, document);
      }
    }
  }
  return document;
}

/** A route that takes a token can answer 429: too many failed authentications from the caller's address (FailedAuthLimiter). */
function limitFailedAuthentication(operation: OperationObject, document: OpenAPIObject): void {
  operation.responses['429'] ??= {
    description: 'too many failed authentications from this client address: try again after Retry-After seconds',
    headers: { 'Retry-After': { description: 'seconds until the address may authenticate again', schema: { type: 'integer' } } },
    content: errorContentOf(operation, document),
  };
}

/**
 * With CUSTOS_OIDC_IDENTITY_FROM=email a route that takes a token can answer 403 `no-identity` (the
 * token's address names no active identity) and 503 (the identity service did not answer which
 * identity it names): said beside the route's own 403 and 503, or added.
 */
function identifyByEmailMayRefuse(operation: OperationObject, document: OpenAPIObject): void {
  const answers: Record<string, string> = {
    '403': "with CUSTOS_OIDC_IDENTITY_FROM=email, the token's address names no active identity (no-identity)",
    '503': "with CUSTOS_OIDC_IDENTITY_FROM=email, the identity service did not answer which identity the token's address names",
  };
  for (const [status, description] of Object.entries(answers)) {
    const existing = operation.responses[status] as ResponseObject | ReferenceObject | undefined;
    if (existing && 'description' in existing) existing.description = `${existing.description}; or ${description}`;
    else if (!existing) operation.responses[status] = { description, content: errorContentOf(operation, document) };
  }
}

/** Builds the document and serves it at /docs (UI) and /docs-json. */
export function serveOpenApiDocument(app: INestApplication, title: string): OpenAPIObject {
  const document = buildOpenApiDocument(app, title);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: DOCUMENT_PATH });
  return document;
}

/** Every write takes an optional Idempotency-Key (IdempotencyInterceptor), and so can answer its 409 and 422. */
function acceptIdempotencyKey(operation: OperationObject, document: OpenAPIObject): void {
  const others = (operation.parameters ?? []).filter((p) => !('in' in p && p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'));
  operation.parameters = [...others, IDEMPOTENCY_KEY];
  const format = errorContentOf(operation, document);
  for (const [status, description] of Object.entries(IDEMPOTENCY_ERRORS)) {
    const existing = operation.responses[status] as ResponseObject | ReferenceObject | undefined;
    if (existing && 'description' in existing) existing.description = `${existing.description}; or ${description}`;
    else operation.responses[status] = { description, content: format };
  }
}

/** The content of the operation's own error answers (SCIM errors on SCIM routes), else problem details. */
function errorContentOf(operation: OperationObject, document: OpenAPIObject): ResponseObject['content'] {
  for (const [status, response] of Object.entries(operation.responses)) {
    // An answer in one format only: a body error may come in two (see ApiScimBodyErrors).
    if (Number(status) >= 400 && response && 'content' in response && response.content && Object.keys(response.content).length === 1) return response.content;
  }
  document.components ??= {};
  document.components.schemas ??= {};
  if (!document.components.schemas[ProblemDetails.name]) throw new Error('ProblemDetails is not in the document: no route uses ApiProblemResponses');
  return Object.fromEntries(PROBLEM_FORMAT.mediaTypes.map((type) => [type, { schema: { $ref: getSchemaPath(ProblemDetails) } }]));
}

function addDocsRoutes(document: OpenAPIObject): void {
  const publicGet = (operationId: string, summary: string, content: ResponseObject['content']): PathItemObject => ({
    get: { operationId, summary, tags: ['operations'], security: [], responses: { 200: { description: summary, content } } },
  });
  document.paths[`/${DOCS_PATH}`] = publicGet('docs_ui', 'This API reference (Swagger UI)', { 'text/html': { schema: { type: 'string' } } });
  document.paths[`/${DOCUMENT_PATH}`] = publicGet('docs_document', 'This OpenAPI document', { 'application/json': { schema: { type: 'object' } } });
}
