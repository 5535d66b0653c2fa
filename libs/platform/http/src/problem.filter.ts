import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { WrongExpectedVersionError } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorAnswerFor, methodNotAllowedFor } from './http-edge';
import { KIND_OF_STATUS, problem, ProblemBody, ProblemException } from './problem';
import { STEP_UP_PROBLEM_TYPE, type StepUpChallenge } from './auth/step-up';

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
    // Nest's own (a pipe's, the router's 404) and Fastify's (413, 415, a bad Content-Length), by status.
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return problem(status, KIND_OF_STATUS[status] ?? 'http', Array.isArray(message) ? message.join('; ') : String(message));
  }
  return problem(500, 'internal', 'an unexpected error occurred');
}

function kebab(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/** The headers an error's answer carries: `WWW-Authenticate` on a 401, `Allow` on a 405. */
export function headersOf(error: unknown): Readonly<Record<string, string>> {
  return error instanceof ProblemException ? error.headers : {};
}

/**
 * Every error of a request, answered as a problem. A step-up refusal (any context's
 * `step-up-required`) also carries the challenge that tells the client what login to ask its
 * provider for (`stepUp`: acr_values, max_age and RFC 9470's WWW-Authenticate).
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(private readonly stepUp?: StepUpChallenge) {}

  catch(caught: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest | undefined>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    // No route matched: a path served with other methods is a 405 naming them.
    const error = (caught instanceof HttpException && caught.getStatus() === 404 && methodNotAllowedFor(request)) || caught;
    const family = errorAnswerFor(request, error);
    let body = family ? undefined : toProblem(error);
    let headers = headersOf(error);
    if (this.stepUp && body?.type === STEP_UP_PROBLEM_TYPE) {
      body = { ...body, ...this.stepUp.extensions };
      headers = { ...headers, ...this.stepUp.headers };
    }
    const status = family?.status ?? body!.status;
    if (status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    reply
      .status(status)
      .headers(headers)
      .type(family?.contentType ?? 'application/problem+json')
      .send(JSON.stringify(family?.body ?? body));
  }
}
