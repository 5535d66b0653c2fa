import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { scimErrorOf, SCIM_CONTENT_TYPE } from './scim-exception.filter';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimUsersController } from './scim-users.controller';

const parseScimJson = json({ type: ['application/scim+json', 'application/*+json'], limit: '1mb' });

/**
 * scimJsonBody parses `application/scim+json` bodies, which the platform's JSON parser leaves
 * alone; a body that is not JSON gets a SCIM error (invalidSyntax), not problem details.
 */
export function scimJsonBody(request: Request, response: Response, next: NextFunction): void {
  parseScimJson(request, response, (error?: unknown) => {
    if (!error) return next();
    const body = scimErrorOf(Object.assign(error as object, { type: 'entity.parse.failed' }));
    response.status(Number(body.status)).type(SCIM_CONTENT_TYPE).send(JSON.stringify(body));
  });
}

/** Installs scimJsonBody in front of the SCIM routes. */
@Module({})
export class ScimJsonBodyModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(scimJsonBody).forRoutes(ScimUsersController, ScimGroupsController);
  }
}
