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
  409: 'Conflict',
  412: 'Precondition Failed',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Builds a problem body; `type` is a stable URN per kind of problem so clients can branch on it. */
export function problem(status: number, kind: string, detail?: string, extensions: Record<string, unknown> = {}): ProblemBody {
  return { type: `urn:custos:problem:${kind}`, title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}), ...extensions };
}

/** An HTTP exception whose response is already a problem body. */
export class ProblemException extends HttpException {
  constructor(readonly body: ProblemBody) {
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
