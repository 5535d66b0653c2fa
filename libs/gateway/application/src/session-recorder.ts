import { sessionStreamId, type RecordedStatement, type SessionEndReason, type SessionEvent, type SessionRefused, type SessionStarted } from '@custos/gateway/contracts';
import { sessionDecider, type SessionCommand, type SessionState } from '@custos/gateway/domain';
import type { EventStore, StreamWrite } from '@custos/platform/event-store';
import { toNewEvents, type CommandMeta } from '@custos/platform/runtime';

export interface RecorderOptions {
  /** Statements a session may have waiting for the store before it is cut (the store is down): recording fails closed. */
  maxPendingPerSession: number;
  /** Wait before a failed flush is tried again. */
  retryMs: number;
  /**
   * How long a completed statement may wait for others to join its batch (default 0: at once).
   * A few milliseconds turn one append per statement into one per many, off the relay's path;
   * what waits is what a crash would leave to SessionMarkedIncomplete.
   */
  lingerMs?: number;
  onError: (error: unknown) => void;
}

interface Recording {
  state: SessionState;
  version: number;
  pending: RecordedStatement[];
  meta: CommandMeta;
}

/** Told a session's newly stored events and the stream's version after them. */
type Listener = (sessionId: string, events: SessionEvent[], version: number) => void;

/**
 * SessionRecorder writes each live session's stream. Statements are queued as they complete and
 * appended in batches: a flush runs at once when none is running, and what arrives meanwhile
 * makes the next one, every session's batch in one multi-stream append (a group commit), so a
 * client never waits for the store. A session's start is appended before its first byte is
 * forwarded, and its end after its last statements. This process is the only writer of a live
 * session's stream, so it appends at the version it knows without reading; the decider still
 * decides every event. Statements forwarded but not yet flushed when the process dies are what
 * SessionMarkedIncomplete (at the next start) owns up to.
 */
export class SessionRecorder {
  private readonly recordings = new Map<string, Recording>();
  private readonly listeners = new Set<Listener>();
  private tail: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private retryTimer?: NodeJS.Timeout;
  private lingerTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly options: RecorderOptions,
  ) {}

  /** Told of every event recorded, after it is stored (live monitoring). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(data: SessionStarted['data'], meta: CommandMeta): Promise<void> {
    const recording: Recording = { state: sessionDecider.initialState(), version: 0, pending: [], meta };
    await this.write([{ sessionId: data.sessionId, recording, commands: [{ type: 'StartSession', data }] }]);
    this.recordings.set(data.sessionId, recording);
  }

  async refuse(data: Omit<SessionRefused['data'], 'refusedAt'>, now: Date, meta: CommandMeta): Promise<void> {
    const recording: Recording = { state: sessionDecider.initialState(), version: 0, pending: [], meta };
    await this.write([{ sessionId: data.sessionId, recording, commands: [{ type: 'RefuseSession', data: { ...data, now: now.toISOString() } }] }]);
  }

  /** Queues a completed statement; false when the session has too many waiting (the store is failing) and must be cut. */
  record(sessionId: string, statement: RecordedStatement): boolean {
    const recording = this.recordings.get(sessionId);
    if (!recording) return false;
    if (recording.pending.length >= this.options.maxPendingPerSession) return false;
    recording.pending.push(statement);
    const linger = this.options.lingerMs ?? 0;
    if (linger <= 0) this.scheduleFlush();
    else if (!this.lingerTimer && !this.stopped) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.scheduleFlush();
      }, linger);
      this.lingerTimer.unref();
    }
    return true;
  }

  /** Appends what the session has waiting, then its end. */
  end(sessionId: string, end: { reason: SessionEndReason; endedBy: string; detail?: string; now: Date }): Promise<void> {
    return this.enqueue(async () => {
      const recording = this.recordings.get(sessionId);
      if (!recording) return;
      const commands: SessionCommand[] = [];
      if (recording.pending.length > 0) commands.push({ type: 'RecordStatements', data: { sessionId, statements: recording.pending } });
      commands.push({ type: 'EndSession', data: { sessionId, reason: end.reason, endedBy: end.endedBy, detail: end.detail, now: end.now.toISOString() } });
      await this.write([{ sessionId, recording, commands }]);
      recording.pending = [];
      this.recordings.delete(sessionId);
    });
  }

  /** Resolves once everything queued before the call is stored (or has failed). */
  async flush(): Promise<void> {
    this.scheduleFlush();
    await this.tail;
  }

  /** No more retries or lingering flushes (after the last flush, at shutdown). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.lingerTimer);
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    void this.enqueue(async () => {
      this.flushQueued = false;
      const batch = [...this.recordings].filter(([, r]) => r.pending.length > 0).map(([sessionId, recording]) => ({ sessionId, recording, count: recording.pending.length }));
      if (batch.length === 0) return;
      await this.write(
        batch.map(({ sessionId, recording, count }) => ({ sessionId, recording, commands: [{ type: 'RecordStatements', data: { sessionId, statements: recording.pending.slice(0, count) } }] })),
      );
      for (const { recording, count } of batch) recording.pending.splice(0, count);
    }).catch((error: unknown) => {
      this.options.onError(error);
      clearTimeout(this.retryTimer);
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => this.scheduleFlush(), this.options.retryMs);
      this.retryTimer.unref();
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.tail.then(job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Decides each session's commands on the state it knows and appends them all in one write. */
  private async write(items: Array<{ sessionId: string; recording: Recording; commands: SessionCommand[] }>): Promise<void> {
    const decided = items.map(({ sessionId, recording, commands }) => {
      let state = recording.state;
      const events: SessionEvent[] = [];
      for (const command of commands) {
        const out = sessionDecider.decide(command, state);
        state = out.reduce(sessionDecider.evolve, state);
        events.push(...out);
      }
      return { sessionId, recording, state, events };
    });
    const writes: StreamWrite[] = decided
      .filter((d) => d.events.length > 0)
      .map((d) => ({ streamId: sessionStreamId(d.sessionId), events: toNewEvents(d.events, d.recording.meta), expectedVersion: d.recording.version === 0 ? 'no-stream' : d.recording.version }));
    if (writes.length > 0) await this.store.appendStreams(writes);
    for (const d of decided) {
      d.recording.state = d.state;
      d.recording.version += d.events.length;
      if (d.events.length > 0) for (const listener of this.listeners) listener(d.sessionId, d.events, d.recording.version);
    }
  }
}
