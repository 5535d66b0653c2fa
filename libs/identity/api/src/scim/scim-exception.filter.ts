import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SCIM, ScimError } from '@custos/identity/application';
import { WrongExpectedVersionError } from '@custos/platform/event-store';
import { BodyNotJson, headersOf, ProblemException } from '@custos/platform/http';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** The body of a SCIM error (RFC 7644 section 3.12): `status` is a string. */
export interface ScimErrorBody {
  schemas: [typeof SCIM.error];
  status: string;
  scimType?: string;
  detail: string;
}

/** What domain and application error codes mean on the SCIM routes. */
const CODES: Record<string, { status: number; scimType?: string }> = {
  'identity-not-found': { status: 404 },
  'identity-already-exists': { status: 409, scimType: 'uniqueness' },
  'employee-id-taken': { status: 409, scimType: 'uniqueness' },
  'employee-id-mismatch': { status: 400, scimType: 'mutability' },
  'invalid-lifecycle-transition': { status: 400, scimType: 'mutability' },
  'activation-before-start-date': { status: 409 },
  'invalid-timestamp': { status: 400, scimType: 'invalidValue' },
};

/** scimErrorOf translates any error into a SCIM error body; an unknown error is a 500 that leaks nothing. */
export function scimErrorOf(error: unknown): ScimErrorBody {
  const body = (status: number, detail: string, scimType?: string): ScimErrorBody => ({
    schemas: [SCIM.error],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  });
  if (error instanceof ScimError) return body(error.httpStatus, error.message, error.scimType);
  if (error instanceof BodyNotJson) return body(400, error.body.detail ?? 'the body is not valid JSON', 'invalidSyntax');
  if (error instanceof ProblemException) {
    // The platform's checks of every body (too deep, prototype names, NUL, lone surrogates): an invalid value to SCIM.
    const invalidValue = error.body.status === 400 && error.body.type === 'urn:custos:problem:validation';
    return body(error.body.status, error.body.detail ?? error.body.title, invalidValue ? 'invalidValue' : undefined);
  }
  if (error instanceof WrongExpectedVersionError) return body(409, 'the User was changed concurrently; retry');
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && CODES[code]) return body(CODES[code].status, (error as Error).message, CODES[code].scimType);
  if (error instanceof SyntaxError) return body(400, `the body is not valid JSON: ${error.message}`, 'invalidSyntax');
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : (response as { message?: unknown }).message ?? error.message;
    return body(error.getStatus(), Array.isArray(message) ? message.join('; ') : String(message));
  }
  return body(500, 'an unexpected error occurred');
}

/** Answers every error on the SCIM routes as a SCIM error (`application/scim+json`), not as problem details. */
@Catch()
export class ScimExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('scim');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = scimErrorOf(error);
    if (Number(body.status) >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    reply.status(Number(body.status)).headers(headersOf(error)).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
  }
}
