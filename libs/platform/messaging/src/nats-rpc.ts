import { headers, RequestError, TimeoutError, type Msg } from '@nats-io/nats-core';
import { RpcError, type RpcHandler, type RpcOptions } from './bus';
import { subjectPrefix } from './naming';
import type { NatsLink, Stoppable } from './nats-link';
import { rpcErrorBody, rpcErrorFromBody, type RpcErrorBody } from './rpc-envelope';

/** The header that marks an RPC answer as an error, so a result that happens to hold an `error` key stays a result. */
export const RPC_ERROR_HEADER = 'Custos-Rpc-Error';

/** serveRpc answers requests in a queue group named after the subject, so replicas share them. */
export async function serveRpc(link: NatsLink, subject: string, handler: RpcHandler): Promise<Stoppable> {
  const { nc } = link;
  const full = subjectPrefix(link.namespace) + subject;
  const inflight = new Set<Promise<void>>();
  const sub = nc.subscribe(full, {
    queue: full,
    callback: (error, msg) => {
      if (error) {
        link.noteError(error, `serve ${subject}`);
        return;
      }
      const answering = answer(msg, handler).finally(() => inflight.delete(answering));
      inflight.add(answering);
    },
  });
  const server: Stoppable = {
    stop: async () => {
      link.untrack(server);
      if (!sub.isClosed() && !nc.isClosed()) await sub.drain();
      await Promise.all(inflight);
    },
  };
  link.track(server);
  // The subscription must reach the server before a caller can rely on it.
  await nc.flush();
  return server;
}

async function answer(msg: Msg, handler: RpcHandler): Promise<void> {
  let body: string;
  let errorStatus: number | undefined;
  try {
    let payload: unknown;
    try {
      payload = msg.data.length === 0 ? null : msg.json();
    } catch {
      throw Object.assign(new Error('request body is not JSON'), { status: 400 });
    }
    body = JSON.stringify((await handler(payload)) ?? null);
  } catch (error) {
    const answer = rpcErrorBody(error);
    errorStatus = answer.error.status;
    body = JSON.stringify(answer);
  }
  if (!msg.reply) return;
  const h = errorStatus === undefined ? undefined : headers();
  h?.set(RPC_ERROR_HEADER, String(errorStatus));
  msg.respond(body, h ? { headers: h } : undefined);
}

/** requestRpc sends a JSON request and returns the JSON answer; a remote error, no responder (503) or timeout (504) is an RpcError. */
export async function requestRpc<T>(link: NatsLink, subject: string, payload: unknown, options?: RpcOptions): Promise<T> {
  const full = subjectPrefix(link.namespace) + subject;
  const timeoutMs = options?.timeoutMs ?? 5_000;
  let msg: Msg;
  try {
    msg = await link.nc.request(full, JSON.stringify(payload ?? null), { timeout: timeoutMs });
  } catch (error) {
    if (error instanceof RequestError && error.isNoResponders()) throw new RpcError(subject, 503, `no service answers ${subject}`);
    if (error instanceof TimeoutError || (error instanceof Error && error.cause instanceof TimeoutError)) {
      throw new RpcError(subject, 504, `no answer on ${subject} within ${timeoutMs} ms`);
    }
    throw error;
  }
  const body: unknown = msg.data.length === 0 ? null : msg.json();
  if (msg.headers?.get(RPC_ERROR_HEADER)) throw rpcErrorFromBody(subject, body as RpcErrorBody);
  return body as T;
}
