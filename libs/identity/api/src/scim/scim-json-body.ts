import { Inject, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { acceptJsonBodies } from '@custos/platform/http';
import type { FastifyInstance } from 'fastify';
import { scimErrorOf, SCIM_CONTENT_TYPE } from './scim-exception.filter';

/** The SCIM routes (RFC 7644 section 3.1: the service provider's base URL). */
export const SCIM_BASE = '/scim/v2';
/** Largest SCIM body: identity providers send whole groups in one PUT. */
export const SCIM_MAX_BODY_BYTES = 1024 * 1024;

/**
 * ScimJsonBodyModule lets the SCIM routes read `application/scim+json` (and `application/json`)
 * bodies up to 1 MiB, with the platform's JSON checks; an error raised before a SCIM route runs
 * (a body that is not JSON, too large, of another media type) is a SCIM error (invalidSyntax for
 * bad JSON), not problem details. It acts on the HTTP adapter when the application is created,
 * before the routes are registered.
 */
@Module({})
export class ScimJsonBodyModule {
  constructor(@Inject(HttpAdapterHost) host: HttpAdapterHost) {
    acceptJsonBodies(host.httpAdapter.getInstance<FastifyInstance>(), {
      pathPrefix: SCIM_BASE,
      mediaTypes: [SCIM_CONTENT_TYPE],
      maxBytes: SCIM_MAX_BODY_BYTES,
      answerError: (error) => {
        const body = scimErrorOf(error);
        return { status: Number(body.status), contentType: SCIM_CONTENT_TYPE, body };
      },
    });
  }
}
