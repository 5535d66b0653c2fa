import type { FastifyReply, FastifyRequest } from 'fastify';
import { projectionOf, type ScimAnswer, type ScimListQuery, type ScimRequestContext } from '@custos/identity/application';
import type { Principal } from '@custos/platform/http';

/**
 * The SCIM request context of an HTTP request: Idempotency-Key (per caller), correlation id,
 * If-Match, projection. Not the Host header: links come from the configured public URL.
 */
export function scimContext(request: FastifyRequest & { principal?: Principal | null }): ScimRequestContext {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const query = (name: string) => {
    const value = (request.query as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const key = header('idempotency-key');
  // Checked before any write, so that a refused projection never follows a change made.
  projectionOf({ attributes: query('attributes'), excludedAttributes: query('excludedAttributes') });
  return {
    idempotencyKey: key ? `${request.principal?.sub ?? 'anonymous'}:${key}` : undefined,
    correlationId: header('x-correlation-id'),
    ...(request.principal ? { actor: request.principal.sub } : {}),
    ifMatch: header('if-match'),
    attributes: query('attributes'),
    excludedAttributes: query('excludedAttributes'),
  };
}

/** Sets the ETag (and Location on a create) of an answer and gives its body. */
export function send(reply: FastifyReply, answer: ScimAnswer, options: { created?: boolean } = {}): Record<string, unknown> {
  reply.header('ETag', answer.etag);
  if (options.created) reply.header('Location', answer.location);
  return answer.resource;
}

/** Reads the list parameters of RFC 7644 section 3.4.2 from the URL. */
export function listQuery(request: FastifyRequest): ScimListQuery {
  const query = request.query as Record<string, unknown>;
  const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
  return { filter: text('filter'), startIndex: text('startIndex'), count: text('count'), attributes: text('attributes'), excludedAttributes: text('excludedAttributes') };
}
