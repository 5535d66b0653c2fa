import { JetStreamApiError, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { contextEventsFilter, contextStreamName } from './naming';

const DUPLICATE_WINDOW_MS = 120_000;

export const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/** NatsStreams creates the streams and durable consumers a NatsBus uses, each stream once per bus (again after `forget`). */
export class NatsStreams {
  private readonly ensured = new Map<string, Promise<void>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly namespace: string,
    private readonly replicas: number,
  ) {}

  ensureContextStream(context: string): Promise<void> {
    return this.ensureStream(contextStreamName(this.namespace, context), [contextEventsFilter(this.namespace, context)]);
  }

  ensureStream(name: string, subjects: string[]): Promise<void> {
    let ensured = this.ensured.get(name);
    if (!ensured) {
      ensured = this.createStream(name, subjects).catch((error: unknown) => {
        this.ensured.delete(name);
        throw error;
      });
      this.ensured.set(name, ensured);
    }
    return ensured;
  }

  /** Makes the next ensureStream of `name` ask the server again (the stream may have been deleted). */
  forget(name: string): void {
    this.ensured.delete(name);
  }

  private async createStream(name: string, subjects: string[]): Promise<void> {
    try {
      await this.jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        num_replicas: this.replicas,
      });
    } catch (error) {
      // An operator may have tuned the stream (replicas, limits): keep theirs.
      if (!isApiError(error, STREAM_NAME_IN_USE)) throw error;
    }
  }

  async ensureConsumer(stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
    try {
      await this.jsm.consumers.add(stream, config);
    } catch (error) {
      // Servers from 2.10 refuse to re-create a durable with a changed config: update it instead.
      if (!(error instanceof JetStreamApiError)) throw error;
      await this.jsm.consumers.update(stream, config.durable_name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        filter_subject: config.filter_subject,
      });
    }
  }
}
