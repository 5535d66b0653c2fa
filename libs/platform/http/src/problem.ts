import { HttpException } from '@nestjs/common';

/** One invalid field of a request, as listed in a problem's `errors`. */
export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Builds a problem body; `type` is a stable URN per kind of problem so clients can branch on it. */
export function problem(status: number, kind: string, detail?: string, extensions: Record<string, unknown> = {}): ProblemBody {
  // Extensions come first: a domain error's own field named like a member of RFC 9457 (an
  // identity's `status: 'active'`) must never replace the answer's status, type or title (an
  // HTTP status of 'active' threw a RangeError that ended the process).
  const { type: _type, title: _title, status: _status, detail: _detail, ...rest } = extensions;
  void [_type, _title, _status, _detail];
  return { ...rest, type: `urn:custos:problem:${kind}`, title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}) };
}

/**
 * The problem kind of each status when nothing more precise is known (a framework's or Fastify's
 * own error): the same error gets the same `type` whichever path raised it.
 */
export const KIND_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  500: 'internal',
  503: 'unavailable',
};

/** An HTTP exception whose response is already a problem body, with the headers its answer needs. */
export class ProblemException extends HttpException {
  constructor(
    readonly body: ProblemBody,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(body, body.status);
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new ProblemException(problem(400, 'validation', detail, errors ? { errors } : {}));
export const notFound = (detail: string) => new ProblemException(problem(404, 'not-found', detail));
export const conflict = (detail: string, extensions?: Record<string, unknown>) =>
  new ProblemException(problem(409, 'conflict', detail, extensions));
export const unprocessable = (kind: string, detail: string, extensions?: Record<string, unknown>) =>
  new ProblemException(problem(422, kind, detail, extensions));
export const forbidden = (detail: string) => new ProblemException(problem(403, 'forbidden', detail));

/**
 * A 401 with the `WWW-Authenticate` challenge of RFC 6750: `Bearer` alone when no token was
 * given, `error="invalid_token"` when one was given and refused.
 */
export const unauthenticated = (detail: string, tokenGiven: boolean) =>
  new ProblemException(problem(401, 'unauthenticated', detail), { 'WWW-Authenticate': tokenGiven ? 'Bearer error="invalid_token"' : 'Bearer' });
export const payloadTooLarge = (limit: number) => new ProblemException(problem(413, 'payload-too-large', `the request body is larger than ${limit} bytes`));
export const unsupportedMediaType = (detail: string) => new ProblemException(problem(415, 'unsupported-media-type', detail));
export const methodNotAllowed = (method: string, allowed: string[]) =>
  new ProblemException(problem(405, 'method-not-allowed', `${method} is not served here; allowed: ${allowed.join(', ')}`), { Allow: allowed.join(', ') });
