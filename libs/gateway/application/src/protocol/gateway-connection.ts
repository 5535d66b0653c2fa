import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { RecordedStatement, SessionEndReason, SessionRefusalReason } from '@custos/gateway/contracts';
import type { Logger } from 'pino';
import type { LiveSessions } from '../live-sessions';
import { UnknownTarget, type AccessToTarget, type UpstreamEndpoint, type UpstreamResolver } from '../ports';
import type { SessionRecorder } from '../session-recorder';
import type { SessionTokens } from '../session-tokens';
import { cancelUpstream, openUpstream, type Upstream } from './upstream';
import {
  CANCEL_REQUEST,
  FieldReader,
  GSSENC_REQUEST,
  MessageReader,
  PROTOCOL_3,
  ProtocolViolation,
  SQLSTATE,
  SSL_REQUEST,
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  errorResponse,
  parameterStatus,
  readBind,
  readCommandTag,
  readError,
  readStartup,
  readyForQuery,
  terminate,
  type Message,
} from './wire';

export interface GatewaySettings {
  gatewayId: string;
  /** The server's TLS context; absent: no TLS offered. */
  tls?: SecureContext;
  /** Refuse a client that did not start TLS. */
  tlsRequired: boolean;
  maxMessageBytes: number;
  upstreamTimeoutMs: number;
  /** How long a client may take from connecting to sending its password. */
  authTimeoutMs: number;
  /** The redaction rule: the parameters of a statement as recorded. */
  redact: (parameters: Array<string | null>) => Array<string | null>;
}

export interface GatewayDeps {
  tokens: SessionTokens;
  access: AccessToTarget;
  upstreams: UpstreamResolver;
  recorder: SessionRecorder;
  live: LiveSessions;
  clock: () => Date;
  logger: Logger;
  settings: GatewaySettings;
}

/** A statement forwarded and not yet answered, or the Sync that closes an extended-protocol batch. */
type InFlight = { kind: 'statement'; statement: RecordedStatement; started: number } | { kind: 'sync' };

/** Frontend message types relayed after login; anything else closes the session. */
const RELAYED = new Set(['Q', 'P', 'B', 'E', 'D', 'C', 'H', 'S', 'd', 'c', 'f'].map((c) => c.charCodeAt(0)));
const code = (c: string) => c.charCodeAt(0);
const PRE_LOGIN_MESSAGE_BYTES = 16 * 1024;

/**
 * GatewayConnection is one client connection: TLS, the startup message, the session token as
 * the password, the grant check, the upstream login with the injected credential, and then the
 * relay, recording each statement as its answer completes. The client's bytes are inspected
 * message by message before any is forwarded: a type the gateway does not know closes the
 * session instead of reaching the target.
 */
export class GatewayConnection {
  private socket: Socket;
  private readonly reader: MessageReader;
  private phase: 'startup' | 'password' | 'authenticating' | 'relay' | 'closed' = 'startup';
  private parameters: Record<string, string> = Object.create(null);
  private tls = false;
  private authTimer?: NodeJS.Timeout;
  // Relay state.
  private sessionId = '';
  private upstream?: Upstream;
  private endpoint?: UpstreamEndpoint;
  private upstreamReader?: MessageReader;
  private readonly inFlight: InFlight[] = [];
  private readonly prepared = new Map<string, string>();
  private readonly portals = new Map<string, { text: string; parameters: Array<string | null> }>();
  private seq = 0;
  private ending?: Promise<void>;

  constructor(
    socket: Socket,
    private readonly deps: GatewayDeps,
  ) {
    this.socket = socket;
    // Before login a client sends a startup message and a password: nothing near this long.
    this.reader = new MessageReader(PRE_LOGIN_MESSAGE_BYTES);
    this.attach(socket);
    socket.setNoDelay(true);
    this.authTimer = setTimeout(() => this.fail('FATAL', SQLSTATE.cannotConnectNow, 'authentication timed out'), deps.settings.authTimeoutMs);
  }

  /** Read afresh after an await (the client may have left meanwhile), where a narrowed `phase` would not be. */
  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  private get clientAddress(): string {
    return this.socket.remoteAddress ?? 'unknown';
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => void this.onClientClosed());
  }

  private onClientData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    // A chunk that starts on a message boundary and ends on one is forwarded as it came, once every message in it passed.
    const whole = this.reader.pending === 0 ? chunk : undefined;
    this.reader.push(chunk);
    try {
      if (this.phase === 'relay') this.relayFromClient(whole);
      else this.handshake();
    } catch (error) {
      this.violation(error);
    }
  }

  private handshake(): void {
    for (;;) {
      if (this.phase === 'authenticating') return; // later bytes wait in the reader until the login is decided
      const message = this.reader.next();
      if (!message) return;
      if (this.phase === 'startup') this.onStartupMessage(message);
      else if (this.phase === 'password') this.onPassword(message);
      else return;
    }
  }

  private onStartupMessage(message: Message): void {
    const { code: request, parameters } = readStartup(message.body);
    if (request === SSL_REQUEST) {
      if (!this.deps.settings.tls || this.tls) {
        this.socket.write('N');
        return;
      }
      // Bytes sent after an SSLRequest and before the handshake would be read as if encrypted (CVE-2021-23222): refused.
      if (this.reader.pending > 0) throw new ProtocolViolation('data after SSLRequest');
      this.socket.write('S');
      this.upgrade();
      return;
    }
    if (request === GSSENC_REQUEST) {
      this.socket.write('N');
      return;
    }
    if (request === CANCEL_REQUEST) {
      const r = new FieldReader(message.body.subarray(4));
      this.deps.live.byCancel(`${r.int32()}:${r.int32()}`)?.cancel();
      this.close();
      return;
    }
    if (request !== PROTOCOL_3) throw new ProtocolViolation(`unsupported protocol ${request >> 16}.${request & 0xffff}`);
    this.parameters = parameters;
    if (!this.parameters.user) {
      this.fail('FATAL', SQLSTATE.invalidAuthorization, 'no user name given: connect as your Custos identity');
      return;
    }
    if (this.deps.settings.tlsRequired && !this.tls) {
      void this.refuse('tls-required', SQLSTATE.invalidAuthorization, 'the Custos gateway requires TLS (sslmode=require)');
      return;
    }
    this.reader.typed = true;
    this.phase = 'password';
    this.socket.write(authenticationCleartextPassword());
  }

  private upgrade(): void {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.deps.settings.tls });
    this.socket = secure;
    this.tls = true;
    secure.on('data', (chunk: Buffer) => this.onClientData(chunk));
    secure.on('error', () => this.close());
    secure.on('close', () => void this.onClientClosed());
  }

  private onPassword(message: Message): void {
    if (message.code !== code('p')) throw new ProtocolViolation('expected a password message');
    const password = new FieldReader(message.body).cstring();
    this.phase = 'authenticating';
    this.login(password).catch((error: unknown) => {
      this.deps.logger.error({ err: error }, 'gateway login failed');
      this.fail('FATAL', SQLSTATE.connectionFailure, 'the gateway could not open the session');
    });
  }

  private async login(token: string): Promise<void> {
    const user = this.parameters.user;
    const target = this.parameters.database ?? user;
    const spent = await this.deps.tokens.spend(token, user, target);
    if (!spent.ok) return this.refuse(spent.reason, SQLSTATE.invalidPassword, `password authentication failed for user "${user}"`);
    if (!(await this.deps.upstreams.knows(target))) return this.refuse('unknown-target', SQLSTATE.invalidAuthorization, `unknown target "${target}"`);
    const access = await this.deps.access.check(user, target);
    if (!access.allowed) return this.refuse('no-grant', SQLSTATE.invalidAuthorization, `no active grant of an entitlement on target "${target}"`);
    let endpoint: UpstreamEndpoint;
    const sessionId = randomUUID();
    try {
      endpoint = await this.deps.upstreams.resolve({ identityId: user, target, grantIds: access.grantIds });
      this.upstream = await openUpstream(endpoint, `custos-session-${sessionId}`, this.deps.settings.upstreamTimeoutMs);
    } catch (error) {
      if (error instanceof UnknownTarget) return this.refuse('unknown-target', SQLSTATE.invalidAuthorization, `unknown target "${target}"`);
      this.deps.logger.warn({ err: error, target }, 'gateway: upstream login failed');
      return this.refuse('upstream-unavailable', SQLSTATE.connectionFailure, `target "${target}" is unavailable`);
    }
    if (this.phase === 'closed') {
      this.upstream.socket.destroy();
      return;
    }
    this.endpoint = endpoint;
    this.sessionId = sessionId;
    await this.deps.recorder.start(
      {
        sessionId,
        identityId: user,
        target,
        database: endpoint.database,
        grantIds: access.grantIds,
        requestIds: access.requestIds,
        entitlements: access.entitlements,
        ...(access.expiresAt ? { expiresAt: access.expiresAt } : {}),
        clientAddress: this.clientAddress,
        upstreamUser: endpoint.user,
        gatewayId: this.deps.settings.gatewayId,
        startedAt: this.deps.clock().toISOString(),
      },
      { actor: user, correlationId: sessionId },
    );
    if (this.isClosed()) {
      // The client left while the session was being opened: it ends here, recorded as such.
      this.upstream.socket.destroy();
      await this.deps.recorder.end(sessionId, { reason: 'client-closed', endedBy: user, now: this.deps.clock() });
      return;
    }
    const pid = randomBytes(4).readInt32BE() & 0x7fffffff;
    const secret = randomBytes(4).readInt32BE();
    this.deps.live.add({
      sessionId,
      identityId: user,
      target,
      grantIds: access.grantIds,
      cancelKey: `${pid}:${secret}`,
      cut: (reason, endedBy, detail) => this.cut(reason, endedBy, detail),
      cancel: () => this.cancelRunning(),
    });
    clearTimeout(this.authTimer);
    const upstream = this.upstream;
    this.upstreamReader = new MessageReader(Number.MAX_SAFE_INTEGER);
    this.upstreamReader.typed = true;
    upstream.socket.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    upstream.socket.on('error', () => undefined);
    upstream.socket.on('close', () => void this.end('upstream-closed', 'system:gateway'));
    upstream.socket.setNoDelay(true);
    this.socket.write(
      Buffer.concat([authenticationOk(), ...upstream.parameters.map(([name, value]) => parameterStatus(name, value)), backendKeyData(pid, secret), readyForQuery('I')]),
    );
    this.phase = 'relay';
    this.reader.maxMessageBytes = this.deps.settings.maxMessageBytes;
    if (this.reader.pending > 0) this.relayFromClient();
  }

  /** A refused login: the client gets a PostgreSQL authentication error, the attempt is recorded. */
  private async refuse(reason: SessionRefusalReason, sqlstate: string, message: string): Promise<void> {
    const target = this.parameters.database ?? this.parameters.user ?? '';
    this.fail('FATAL', sqlstate, message);
    try {
      await this.deps.recorder.refuse(
        { sessionId: randomUUID(), user: (this.parameters.user ?? '').slice(0, 256), target: target.slice(0, 256), reason, clientAddress: this.clientAddress },
        this.deps.clock(),
        { actor: 'system:gateway' },
      );
    } catch (error) {
      this.deps.logger.error({ err: error, reason }, 'gateway: a refused login could not be recorded');
    }
  }

  private relayFromClient(whole?: Buffer): void {
    const frames: Buffer[] = [];
    let message: Message | undefined;
    while ((message = this.reader.next())) {
      if (message.code === code('X')) {
        if (frames.length > 0) this.upstream?.socket.write(Buffer.concat(frames));
        void this.end('client-closed', this.parameters.user);
        return;
      }
      if (!RELAYED.has(message.code)) throw new ProtocolViolation(`message type ${JSON.stringify(String.fromCharCode(message.code))} is not relayed`);
      this.track(message);
      frames.push(message.frame);
    }
    const upstream = this.upstream?.socket;
    if (frames.length > 0 && upstream) this.backpressure(this.socket, upstream.write(whole && this.reader.pending === 0 ? whole : frames.length === 1 ? frames[0] : Buffer.concat(frames)), upstream);
  }

  /** Notes what a client message asks, to record it when its answer comes. */
  private track(message: Message): void {
    const now = Date.now();
    switch (message.code) {
      case 0x51: // Query
        this.inFlight.push({ kind: 'statement', started: now, statement: { seq: ++this.seq, protocol: 'simple', text: new FieldReader(message.body).cstring(), startedAt: this.deps.clock().toISOString(), durationMs: 0 } });
        return;
      case 0x50: {
        // Parse: name, text
        const r = new FieldReader(message.body);
        const name = r.cstring();
        this.prepared.set(name, r.cstring());
        return;
      }
      case 0x42: {
        const bind = readBind(message.body);
        this.portals.set(bind.portal, { text: this.prepared.get(bind.statement) ?? '', parameters: this.deps.settings.redact(bind.parameters) });
        return;
      }
      case 0x45: {
        const portal = this.portals.get(new FieldReader(message.body).cstring());
        this.inFlight.push({
          kind: 'statement',
          started: now,
          statement: { seq: ++this.seq, protocol: 'extended', text: portal?.text ?? '', parameters: portal?.parameters ?? [], startedAt: this.deps.clock().toISOString(), durationMs: 0 },
        });
        return;
      }
      case 0x53:
        this.inFlight.push({ kind: 'sync' });
        return;
      case 0x43: {
        // Close: 'S' statement or 'P' portal
        const r = new FieldReader(message.body);
        const what = r.bytes(1)[0];
        const name = r.cstring();
        if (what === code('S')) this.prepared.delete(name);
        else this.portals.delete(name);
        return;
      }
    }
  }

  private onUpstreamData(chunk: Buffer): void {
    const reader = this.upstreamReader;
    if (!reader || this.phase === 'closed') return;
    const whole = reader.pending === 0 ? chunk : undefined;
    reader.push(chunk);
    let message: Message | undefined;
    const frames: Buffer[] = [];
    try {
      while ((message = reader.next())) {
        this.observe(message);
        frames.push(message.frame);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, sessionId: this.sessionId }, 'gateway: unreadable upstream message');
      void this.end('upstream-closed', 'system:gateway', 'unreadable upstream message');
      return;
    }
    if (frames.length > 0) this.backpressure(this.upstream!.socket, this.socket.write(whole && reader.pending === 0 ? whole : frames.length === 1 ? frames[0] : Buffer.concat(frames)), this.socket);
  }

  /** A reader faster than its writer's destination waits for it to drain: a slow client never makes the gateway hold a whole result in memory. */
  private backpressure(source: Socket, flushed: boolean, destination: Socket): void {
    if (flushed || source.isPaused()) return;
    source.pause();
    destination.once('drain', () => source.resume());
  }

  /** Completes statements from the server's answers: a command tag, an empty query, a suspended portal, an error, ReadyForQuery. */
  private observe(message: Message): void {
    const head = this.inFlight[0];
    switch (message.code) {
      case 0x43: // CommandComplete
      case 0x49: // EmptyQueryResponse
      case 0x73: {
        // PortalSuspended
        if (head?.kind !== 'statement') return;
        if (message.code === 0x43) {
          const tag = readCommandTag(message.body);
          head.statement.command = tag.command;
          if (tag.rows !== undefined) head.statement.rows = (head.statement.protocol === 'simple' ? (head.statement.rows ?? 0) : 0) + tag.rows;
        }
        if (head.statement.protocol === 'extended') this.complete();
        return;
      }
      case 0x45: {
        // ErrorResponse: the failing statement; in the extended protocol the server skips the rest up to Sync.
        if (head?.kind !== 'statement') return;
        head.statement.error = readError(message.body);
        if (head.statement.protocol === 'extended') this.complete();
        return;
      }
      case 0x5a: {
        // ReadyForQuery: a simple query is done; an extended batch up to its Sync is done (what the server skipped, recorded as skipped).
        while (this.inFlight.length > 0) {
          const item = this.inFlight[0];
          if (item.kind === 'sync') {
            this.inFlight.shift();
            return;
          }
          if (item.statement.protocol === 'simple') {
            this.complete();
            return;
          }
          item.statement.error ??= { code: '', message: 'not executed: an earlier statement of its batch failed' };
          this.complete();
        }
        return;
      }
    }
  }

  private complete(): void {
    const item = this.inFlight.shift();
    if (item?.kind !== 'statement') return;
    item.statement.durationMs = Date.now() - item.started;
    if (!this.deps.recorder.record(this.sessionId, item.statement)) {
      // The recording is not keeping up (the store is down): nothing more runs unrecorded.
      void this.cut('gateway-stopped', 'system:gateway', 'the session recording is unavailable');
    }
  }

  private cancelRunning(): void {
    if (this.endpoint && this.upstream) cancelUpstream(this.endpoint, this.upstream.processId, this.upstream.secretKey);
  }

  /** Ends the session from outside (grant ended, leaver, terminate): the client is told why. */
  cut(reason: SessionEndReason, endedBy: string, detail: string): Promise<void> {
    if (this.phase === 'relay') {
      this.socket.write(errorResponse('FATAL', SQLSTATE.adminShutdown, `terminating connection: ${detail}`));
      // A statement still running upstream is stopped, not left to finish on its own.
      if (this.inFlight.some((i) => i.kind === 'statement')) this.cancelRunning();
    }
    return this.end(reason, endedBy, detail);
  }

  /** Closes both sides and records the end once, with whatever was forwarded and not answered. */
  private end(reason: SessionEndReason, endedBy: string, detail?: string): Promise<void> {
    if (this.ending) return this.ending;
    this.ending = (async () => {
      const live = this.phase === 'relay';
      this.close();
      if (!live) return;
      this.deps.live.remove(this.sessionId);
      for (const item of this.inFlight.splice(0)) {
        if (item.kind !== 'statement') continue;
        item.statement.durationMs = Date.now() - item.started;
        item.statement.error ??= { code: SQLSTATE.adminShutdown, message: 'no answer: the session ended first' };
        this.deps.recorder.record(this.sessionId, item.statement);
      }
      await this.deps.recorder.end(this.sessionId, { reason, endedBy, detail, now: this.deps.clock() }).catch((error: unknown) => {
        this.deps.logger.error({ err: error, sessionId: this.sessionId }, 'gateway: the end of a session could not be recorded (it will be marked incomplete)');
      });
    })();
    return this.ending;
  }

  private onClientClosed(): void {
    if (this.phase === 'relay') void this.end('client-closed', this.parameters.user ?? 'unknown');
    else this.close();
  }

  private violation(error: unknown): void {
    const message = error instanceof ProtocolViolation ? error.message : 'malformed message';
    if (this.phase === 'relay') {
      this.socket.write(errorResponse('FATAL', SQLSTATE.protocolViolation, `protocol violation: ${message}; the session is closed`));
      void this.end('protocol-violation', 'system:gateway', message);
    } else this.fail('FATAL', SQLSTATE.protocolViolation, `protocol violation: ${message}`);
  }

  private fail(severity: 'ERROR' | 'FATAL', sqlstate: string, message: string): void {
    if (this.phase === 'closed') return;
    this.socket.write(errorResponse(severity, sqlstate, message));
    this.close();
  }

  private close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    if (this.upstream) {
      const up = this.upstream.socket;
      if (up.writable) up.end(terminate());
      setTimeout(() => up.destroy(), 1_000).unref();
    }
  }
}
