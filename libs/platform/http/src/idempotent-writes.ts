import { RequestMethod } from '@nestjs/common';
import { INTERCEPTORS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import type { NestInterceptor } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { ANSWERS_A_SECRET } from './connector-tokens.controller';

const WRITES: ReadonlySet<RequestMethod> = new Set([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE]);

/**
 * Puts `interceptor` in front of every write route (POST, PUT, PATCH, DELETE) of the application's
 * controllers, but those whose answer holds a secret shown once (ANSWERS_A_SECRET), and of no read. A global interceptor would sit on reads too, where on Node 20 each
 * interceptor hop costs Nest two AsyncResource.bind calls (an async resource and a deprecation
 * wrapper apiece): a third of the time of GET /check. Call before the app is initialised (listen),
 * when Nest reads the routes' interceptors.
 */
export function interceptWrites(app: INestApplication, interceptor: NestInterceptor): void {
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const type = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
      if (!type?.prototype) continue;
      for (const name of Object.getOwnPropertyNames(type.prototype)) {
        if (name === 'constructor') continue;
        const handler = Object.getOwnPropertyDescriptor(type.prototype, name)?.value as object | undefined;
        if (typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined || !WRITES.has(method)) continue;
        // An answer holding a secret shown once is never kept to be replayed.
        if (Reflect.getMetadata(ANSWERS_A_SECRET, handler) === true) continue;
        const existing = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
        if (!existing.includes(interceptor)) Reflect.defineMetadata(INTERCEPTORS_METADATA, [interceptor, ...existing], handler);
      }
    }
  }
}
