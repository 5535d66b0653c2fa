import { Catch, type DynamicModule, type INestApplication, type INestMicroservice, type RpcExceptionFilter, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  BaseRpcContext,
  RpcException,
  Server,
  type CustomTransportStrategy,
  type MessageHandler,
  type MicroserviceOptions,
  type NestMicroservice,
} from '@nestjs/microservices';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { CustosEvent } from '@custos/platform/event-store';
import type { InboundMessage, InboundVerdict, MessageBus } from './bus';
import { isDurableEvents, isInboundEvents, type DurableEvents, type InboundEvents } from './nest-patterns';

/** The transport id of the bus transport: `@MessagePattern(subject, BUS_TRANSPORT)` would bind a handler to it alone. */
export const BUS_TRANSPORT = Symbol('custos-bus');

/** What a handler on the bus transport gets as its context: the request subject, or the durable consumer name. */
export class BusContext extends BaseRpcContext<[string]> {
  /** `rpc.entitlement.check` for a request; the durable name for events. */
  getSource(): string {
    return this.args[0];
  }
}

/** Where the transport says what it did not open (a door the bus cannot serve). */
export interface TransportLog {
  info(fields: object, message: string): void;
}

type Running = { stop(): Promise<void> };

/**
 * BusTransport is a Nest custom transport over the MessageBus port, so one set of handlers runs
 * on both buses (NATS, in-process). It only delivers; what a handler does with a delivery is the
 * handler's: `@MessagePattern('rpc.<context>.<name>')` answers requests (`bus.serve`, queue
 * groups on NATS); `@EventPattern(DurableEvents)` is a durable consumer (`bus.consume`) whose
 * retries, dead letters and adaptive batches are the bus's, as before; `@EventPattern(InboundEvents)`
 * is a door for outside messages (`bus.consumeInbound`). A handler's error reaches the bus as
 * thrown (register BusErrorFilter, as connectBusTransport does): an RPC caller gets its status,
 * a consumer redelivers or dead-letters.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  private readonly declared = new Map<string, unknown>();
  private running: Running[] = [];

  constructor(
    private readonly bus: MessageBus,
    private readonly log?: TransportLog,
  ) {
    super();
    this.transportId = BUS_TRANSPORT;
  }

  /** Keeps each handler's pattern as declared (Nest keys them by a string form), and refuses a subject or durable declared twice. */
  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: Record<string, unknown> = {}): void {
    const route = this.normalizePattern(pattern as string);
    const durable = isDurableEvents(pattern) || isInboundEvents(pattern) ? pattern.durable : undefined;
    const twice = this.messageHandlers.has(route) || (durable !== undefined && [...this.declared.values()].some((p) => (p as { durable?: unknown }).durable === durable));
    if (twice) throw new Error(`two handlers for ${durable ?? route} on the bus transport: each subject is served, and each durable consumed, by one handler`);
    this.declared.set(route, pattern);
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  /** Serves every RPC subject and starts every consumer; if one fails, stops those already started and reports the error. */
  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      for (const [route, handler] of this.messageHandlers) {
        const running = await this.open(route, handler);
        if (running) this.running.push(running);
      }
    } catch (error) {
      await this.close();
      callback(error);
      return;
    }
    callback();
  }

  /** Stops every server and consumer (each finishing what it has in hand). */
  async close(): Promise<void> {
    const running = this.running;
    this.running = [];
    await Promise.allSettled(running.map((r) => r.stop()));
  }

  on(): never {
    throw new Error('the bus transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  private async open(route: string, handler: MessageHandler): Promise<Running | undefined> {
    const pattern = this.declared.get(route);
    if (!handler.isEventHandler) {
      if (typeof pattern !== 'string') throw new Error(`@MessagePattern(${route}): a request handler's pattern is its subject, rpc.<context>.<name>`);
      const context = new BusContext([pattern]);
      return this.bus.serve(pattern, (payload) => this.invoke(handler, payload, context));
    }
    if (isDurableEvents(pattern)) return this.consume(pattern, handler);
    if (isInboundEvents(pattern)) return this.consumeInbound(pattern, handler);
    throw new Error(`@EventPattern(${route}): events are consumed durably; give a DurableEvents ({durable, context}) or InboundEvents ({durable, stream, subjects}) pattern`);
  }

  private consume(pattern: DurableEvents, handler: MessageHandler): Promise<Running> {
    const { durable, context, eventNames, batch, maxBatch, maxDeliver, retryDelayMs, lingerMs } = pattern;
    const ctx = new BusContext([durable]);
    const deliver = (data: CustosEvent | CustosEvent[]) => this.invoke(handler, data, ctx).then(() => undefined);
    return this.bus.consume({
      durable,
      context,
      eventNames,
      maxBatch,
      maxDeliver,
      retryDelayMs,
      lingerMs,
      // A batch handler gets arrays only: a lone event (or a failed batch's events, one by one) as an array of one.
      handler: (event) => deliver(batch ? [event] : event),
      batchHandler: batch ? (events) => deliver(events) : undefined,
    });
  }

  private async consumeInbound(pattern: InboundEvents, handler: MessageHandler): Promise<Running | undefined> {
    const { durable, stream, subjects, maxDeliver, retryDelayMs } = pattern;
    if (!this.bus.consumeInbound) {
      this.log?.info({ durable, stream, subjects }, `inbound door ${durable} is off: the ${this.bus.kind} bus has no streams for outside messages (set NATS_URL to receive ${subjects.join(', ')})`);
      return undefined;
    }
    const ctx = new BusContext([durable]);
    const consumer = await this.bus.consumeInbound({
      durable,
      stream,
      subjects,
      maxDeliver,
      retryDelayMs,
      handler: async (message: InboundMessage) => (await this.invoke(handler, message, ctx)) as InboundVerdict,
    });
    this.log?.info({ durable, stream, subjects }, `inbound door ${durable} is open`);
    return consumer;
  }

  /** Runs a handler through Nest (guards, interceptors, pipes, filters) and waits for its result. */
  private async invoke(handler: MessageHandler, data: unknown, context: BusContext): Promise<unknown> {
    const result: unknown = await handler(data, context);
    return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
  }
}

/**
 * BusErrorFilter hands a bus handler's error to the bus as thrown: its `status`, message and
 * `details` become the RPC caller's RpcError, and a consumer's failure is retried and then
 * dead-lettered with its text (Nest's default filter would turn every unknown error into
 * "Internal server error"). An RpcException's error object gives the status and message.
 */
@Catch()
export class BusErrorFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => (exception instanceof RpcException ? fromRpcException(exception) : exception));
  }
}

function fromRpcException(exception: RpcException): unknown {
  const error = exception.getError();
  return typeof error === 'object' && error !== null ? Object.assign(new Error(exception.message), error) : exception;
}

/**
 * connectBusTransport makes `app` also serve its controllers' message and event patterns over
 * `bus`, with BusErrorFilter; they start with `app.startAllMicroservices()` (after the HTTP
 * server listens, once every module's views are started) and stop when the app closes, after
 * the HTTP server and before the modules' shutdown hooks (so before the store closes).
 */
export function connectBusTransport(app: INestApplication, bus: MessageBus, log?: TransportLog): NestMicroservice {
  // Deferred, so that the filter is in place before the handlers are registered (Nest reads
  // global filters once, at registration); the app has already run every module's init hook.
  const microservice = app.connectMicroservice<MicroserviceOptions>({ strategy: new BusTransport(bus, log) }, { deferInitialization: true }) as unknown as NestMicroservice;
  microservice.useGlobalFilters(new BusErrorFilter());
  microservice.registerListeners();
  microservice.setIsInitialized(true);
  microservice.setIsInitHookCalled(true);
  return microservice;
}

/**
 * startBusMicroservice runs the message handlers of `module` over `bus` without an HTTP server
 * (a worker process, a spec), with BusErrorFilter, and resolves once they all serve and consume.
 */
export async function startBusMicroservice(module: Type | DynamicModule, bus: MessageBus, log?: TransportLog): Promise<INestMicroservice> {
  const microservice = await NestFactory.createMicroservice<MicroserviceOptions>(module, { strategy: new BusTransport(bus, log), logger: false, abortOnError: false });
  microservice.useGlobalFilters(new BusErrorFilter());
  try {
    await microservice.listen();
  } catch (error) {
    await microservice.close();
    throw error;
  }
  return microservice;
}
