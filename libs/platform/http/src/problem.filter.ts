import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import type { Response } from 'express';
import { problem, ProblemBody, ProblemException } from './problem';

/**
 * A domain error that the edge maps to a status. Domain libraries cannot import NestJS,
 * so their errors are recognised by shape: a `code` and an `httpStatus`.
 */
interface StatusBearingError {
  code: string;
  httpStatus: number;
  message: string;
  details?: Record<string, unknown>;
}

const domainStatuses = new Map<string, number>();

/** Registers the HTTP status of domain error codes (each context's edge declares its own). */
export function registerDomainErrorStatuses(statuses: Record<string, number>): void {
  for (const [code, status] of Object.entries(statuses)) domainStatuses.set(code, status);
}

function isStatusBearing(error: unknown): error is StatusBearingError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as Partial<StatusBearingError>;
  if (typeof candidate.code !== 'string') return false;
  if (typeof candidate.httpStatus !== 'number') {
    const status = domainStatuses.get(candidate.code);
    if (status === undefined) return false;
    candidate.httpStatus = status;
  }
  return true;
}

/** Translates any error into an `application/problem+json` answer; unknown errors become a 500 that leaks nothing. */
export function toProblem(error: unknown): ProblemBody {
  if (error instanceof ProblemException) return error.body;
  if (isStatusBearing(error)) {
    const { code, httpStatus, message, details, name, stack, ...fields } = error as StatusBearingError & Error & Record<string, unknown>;
    void name;
    void stack;
    return problem(httpStatus, kebab(code), message, { ...fields, ...(details ?? {}) });
  }
  if (error instanceof WrongExpectedVersionError) {
    return problem(409, 'concurrency', 'the resource was changed concurrently; retry with its current version', { actualVersion: error.actual });
  }
  if (error instanceof RpcError) {
    return problem(error.status, 'upstream', error.message, error.details ? { details: error.details } : {});
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return problem(status, status === 404 ? 'not-found' : status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : 'http', Array.isArray(message) ? message.join('; ') : String(message));
  }
  return bodyParserProblem(error) ?? problem(500, 'internal', 'an unexpected error occurred');
}

/** The problem of a body parser's error (http-errors: a 4xx `status` and a `type` such as `entity.too.large`). */
function bodyParserProblem(error: unknown): ProblemBody | undefined {
  // http-errors puts `status` on the error class's prototype, so it is read as any property is.
  if (!(error instanceof Error)) return undefined;
  const { status, type } = error as Error & { status?: unknown; type?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499 || typeof type !== 'string') return undefined;
  switch (type) {
    case 'entity.too.large':
      return problem(413, 'payload-too-large', `the request body is larger than ${Number((error as { limit?: unknown }).limit) || 'the limit of'} bytes`);
    case 'entity.parse.failed':
      return problem(400, 'validation', 'the request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return problem(415, 'unsupported-media-type', (error as Error).message);
    default:
      return problem(status, 'http', (error as Error).message);
  }
}

function kebab(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toProblem(error);
    if (body.status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    response.status(body.status).type('application/problem+json').send(JSON.stringify(body));
  }
}
