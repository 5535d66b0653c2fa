import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { MessageBus, RpcOptions } from './bus';

/**
 * BusClient is a Nest ClientProxy over the MessageBus port: `client.send(CHECK_RPC, request)`
 * is `bus.request`, on NATS or in process, and fails with the same RpcError (a remote error's
 * status, 503 when nobody serves the subject, 504 on timeout). It has no `emit`: events reach
 * other contexts only through the relay from the event store.
 */
export class BusClient extends ClientProxy {
  constructor(
    private readonly bus: MessageBus,
    private readonly options: RpcOptions = {},
  ) {
    super();
  }

  async connect(): Promise<MessageBus> {
    return this.bus;
  }

  /** The bus belongs to the topology that opened it: closing the client leaves it open. */
  async close(): Promise<void> {}

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const subject = this.normalizePattern(packet.pattern);
    this.bus.request(subject, packet.data, this.options).then(
      (response) => callback({ response, isDisposed: true }),
      (err: unknown) => callback({ err, isDisposed: true }),
    );
    // A request cannot be withdrawn once sent: unsubscribing only drops its answer.
    return () => undefined;
  }

  protected async dispatchEvent(packet: ReadPacket): Promise<never> {
    throw new Error(`cannot emit ${this.normalizePattern(packet.pattern)}: events reach other contexts through the relay from the event store; append them there`);
  }
}
