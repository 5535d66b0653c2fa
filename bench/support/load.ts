/**
 * The load generator of the check benchmark: closed-loop clients (each sends its next request
 * when the previous answer arrived) with every latency recorded, and a minimal HTTP/1.1
 * keep-alive client over raw sockets. The client is deliberately lean: on a 2-core machine the
 * generator shares the CPU with the server under test, and Node's `http` agent would cost more
 * per request than some of the servers it measures. Both HTTP servers get the same client,
 * connections, concurrency and durations.
 */
import { connect, type Socket } from 'node:net';

export interface Run {
  count: number;
  ms: number;
  /** CPU time this process (the load generator) spent meanwhile, user + system. */
  cpuMs: number;
  /** Milliseconds per request, in completion order. */
  latencies: number[];
}

/** Runs `clients` closed loops of `op` for `ms` milliseconds. */
export async function closedLoop(clients: number, ms: number, op: (client: number, i: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; ; i++) {
        const sent = performance.now();
        if (sent >= deadline) return;
        await op(c, i);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { count: latencies.length, ms: elapsed, cpuMs: (used.user + used.system) / 1000, latencies };
}

export function merge(runs: Run[]): Run {
  const sum = (f: (r: Run) => number) => runs.reduce((n, r) => n + f(r), 0);
  return { count: sum((r) => r.count), ms: sum((r) => r.ms), cpuMs: sum((r) => r.cpuMs), latencies: runs.flatMap((r) => r.latencies) };
}

/**
 * Measures two targets with the same load in alternating rounds (a warm-up of `warmUpMs` each,
 * then `rounds` rounds of `roundMs` each), so that a slow patch of the machine falls on both.
 */
export async function alternating(first: (ms: number) => Promise<Run>, second: (ms: number) => Promise<Run>, rounds: number, roundMs: number, warmUpMs: number): Promise<[Run, Run]> {
  await first(warmUpMs);
  await second(warmUpMs);
  const a: Run[] = [];
  const b: Run[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await first(roundMs));
    b.push(await second(roundMs));
  }
  return [merge(a), merge(b)];
}

export const perSecond = (run: Run) => (run.count * 1000) / run.ms;

/** The load generator's CPU use during the run, in % of one core. */
export const generatorCpu = (run: Run) => (run.cpuMs / run.ms) * 100;

export function percentile(run: Run, p: number): number {
  const sorted = Float64Array.from(run.latencies).sort();
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface HttpAnswer {
  status: number;
  body: string;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** One keep-alive HTTP/1.1 connection: one request in flight at a time, answers read by Content-Length or chunked encoding. */
export class HttpConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (answer: HttpAnswer) => void; reject: (error: Error) => void };
  private closed?: Error;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const fail = (error: Error) => {
      this.closed ??= error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  static open(url: string): Promise<HttpConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.off('error', reject);
        resolve(new HttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends a complete request (head and body, pre-encoded) and resolves with the answer. */
  send(request: Buffer): Promise<HttpAnswer> {
    if (this.closed) return Promise.reject(this.closed);
    if (this.waiting) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private parse(): void {
    const headEnd = this.buffer.indexOf(CRLF2);
    if (headEnd < 0) return;
    const head = this.buffer.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    const lengthAt = lower.indexOf('\r\ncontent-length:');
    let body: Buffer;
    let consumed: number;
    if (lengthAt >= 0) {
      const lineEnd = lower.indexOf('\r\n', lengthAt + 2);
      const length = parseInt(lower.slice(lengthAt + 17, lineEnd < 0 ? undefined : lineEnd), 10);
      if (this.buffer.length < headEnd + 4 + length) return;
      body = this.buffer.subarray(headEnd + 4, headEnd + 4 + length);
      consumed = headEnd + 4 + length;
    } else if (lower.includes('\r\ntransfer-encoding: chunked')) {
      const parts: Buffer[] = [];
      let at = headEnd + 4;
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buffer.toString('latin1', at, lineEnd), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          consumed = lineEnd + 4;
          break;
        }
        parts.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      this.waiting?.reject(new Error(`answer without Content-Length or chunked encoding: ${head}`));
      this.waiting = undefined;
      return;
    }
    const answer = { status, body: body.toString('utf8') };
    this.buffer = consumed === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(consumed);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve(answer);
  }
}

/** A GET request, encoded once. */
export function getRequest(url: string, path: string, headers: Record<string, string> = {}): Buffer {
  const { host } = new URL(url);
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/** A POST request with a JSON body, encoded once. */
export function postJsonRequest(url: string, path: string, json: string, headers: Record<string, string> = {}): Buffer {
  const { host } = new URL(url);
  const body = Buffer.from(json, 'utf8');
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Content-Type: application/json',
    `Content-Length: ${body.length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
