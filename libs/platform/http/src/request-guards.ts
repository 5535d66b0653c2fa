import { json, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { badRequest, ProblemBody } from './problem';
import { toProblem } from './problem.filter';
import { INPUT_LIMITS, untrustedInputError, untrustedTargetError } from './untrusted-input';

function answer(response: Response, body: ProblemBody): void {
  response.status(body.status).type('application/problem+json').send(JSON.stringify(body));
}

/**
 * The request's target and JSON body checked before any route, guard or interceptor sees them:
 * a NUL character in the URL, a body over the size limit (413), a body that is not JSON, and a
 * body no route may accept (too deep, prototype names, NUL or lone surrogates) are answered here
 * as problems, whatever the route and with or without a token. Routes that read other media
 * (SCIM's `application/scim+json`) parse and check their own bodies.
 */
export function requestGuards(): RequestHandler[] {
  const parseJson = json({ limit: INPUT_LIMITS.maxBodyBytes });
  const checkTarget: RequestHandler = (request: Request, response: Response, next: NextFunction) => {
    const error = untrustedTargetError(request.originalUrl ?? request.url);
    if (error) return answer(response, badRequest(`invalid request: ${error.message}`, [error]).body);
    next();
  };
  const parseAndCheckBody: RequestHandler = (request: Request, response: Response, next: NextFunction) => {
    parseJson(request, response, (parseError?: unknown) => {
      if (parseError) return answer(response, toProblem(parseError));
      const error = untrustedInputError(request.body);
      if (error) return answer(response, badRequest(`invalid request: ${error.message}`, [error]).body);
      next();
    });
  };
  return [checkTarget, parseAndCheckBody];
}
