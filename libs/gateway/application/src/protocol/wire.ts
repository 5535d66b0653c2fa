/**
 * The PostgreSQL wire protocol (version 3) as far as the gateway needs it: framing of messages in
 * both directions, reading the fields of the few it inspects, and writing the few it answers
 * itself. Messages pass through as the bytes they arrived as; nothing here re-serializes a
 * forwarded message. See https://www.postgresql.org/docs/current/protocol-message-formats.html.
 */

/** Codes of the untyped first messages (the int32 after the length). */
export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** One message: its type byte (0 for an untyped startup-phase message) and body (without type and length), and the whole frame as received. */
export interface Message {
  code: number;
  body: Buffer;
  frame: Buffer;
}

export class ProtocolViolation extends Error {}

/**
 * MessageReader cuts a byte stream into messages. `typed` false reads the startup phase's
 * messages (length first); true, the regular ones (type byte, then length). A length below the
 * minimum or above `maxMessageBytes` is a protocol violation: a client cannot make the gateway
 * buffer more than that before anything is decided.
 */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  typed = false;

  /** The largest message accepted now: small until the client has logged in, larger after. */
  constructor(public maxMessageBytes: number) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  /** Bytes received and not yet cut into a message. */
  get pending(): number {
    return this.buffer.length;
  }

  next(): Message | undefined {
    const header = this.typed ? 5 : 4;
    if (this.buffer.length < header) return undefined;
    const length = this.buffer.readUInt32BE(this.typed ? 1 : 0);
    if (length < 4 || length > this.maxMessageBytes) throw new ProtocolViolation(`message length ${length} out of bounds`);
    const total = length + (this.typed ? 1 : 0);
    if (this.buffer.length < total) return undefined;
    const frame = this.buffer.subarray(0, total);
    this.buffer = this.buffer.subarray(total);
    return { code: this.typed ? frame[0] : 0, body: frame.subarray(header), frame };
  }
}

/** A cursor over a message body; reading past its end is a protocol violation. */
export class FieldReader {
  private offset = 0;

  constructor(private readonly body: Buffer) {}

  int16(): number {
    this.need(2);
    const v = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolViolation('unterminated string');
    const s = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.body.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  get done(): boolean {
    return this.offset >= this.body.length;
  }

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.body.length) throw new ProtocolViolation('message shorter than its fields');
  }
}

/** The startup message's parameters (user, database, application_name...), as own properties of a prototype-less record. */
export function readStartup(body: Buffer): { code: number; parameters: Record<string, string> } {
  const r = new FieldReader(body);
  const code = r.int32();
  const parameters: Record<string, string> = Object.create(null);
  if (code !== PROTOCOL_3) return { code, parameters };
  for (let i = 0; i < 64; i++) {
    const name = r.cstring();
    if (name === '') return { code, parameters };
    parameters[name] = r.cstring();
  }
  throw new ProtocolViolation('too many startup parameters');
}

/** A Bind message's portal, statement and parameters (text; binary ones shown as hex). */
export function readBind(body: Buffer): { portal: string; statement: string; parameters: Array<string | null> } {
  const r = new FieldReader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  const formats = Array.from({ length: r.int16() }, () => r.int16());
  const count = r.int16();
  const parameters: Array<string | null> = [];
  for (let i = 0; i < count; i++) {
    const length = r.int32();
    if (length === -1) {
      parameters.push(null);
      continue;
    }
    const value = r.bytes(length);
    const format = formats.length === 1 ? formats[0] : (formats[i] ?? 0);
    parameters.push(format === 1 ? `\\x${value.toString('hex')}` : value.toString('utf8'));
  }
  return { portal, statement, parameters };
}

/** An ErrorResponse's SQLSTATE and message. */
export function readError(body: Buffer): { code: string; message: string } {
  const r = new FieldReader(body);
  let code = '';
  let message = '';
  while (!r.done) {
    const field = r.bytes(1)[0];
    if (field === 0) break;
    const value = r.cstring();
    if (field === 0x43) code = value;
    else if (field === 0x4d) message = value;
  }
  return { code, message };
}

/** A CommandComplete tag's verb and row count (`INSERT 0 3` -> INSERT, 3). */
export function readCommandTag(body: Buffer): { command: string; rows?: number } {
  const tag = new FieldReader(body).cstring();
  const parts = tag.split(' ');
  const last = Number(parts[parts.length - 1]);
  return parts.length > 1 && Number.isInteger(last) ? { command: parts[0], rows: last } : { command: parts[0] };
}

function frame(code: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** ErrorResponse: severity, SQLSTATE, message (and detail). */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string, detail?: string): Buffer {
  const fields = [Buffer.from('S'), cstring(severity), Buffer.from('V'), cstring(severity), Buffer.from('C'), cstring(code), Buffer.from('M'), cstring(message)];
  if (detail) fields.push(Buffer.from('D'), cstring(detail));
  fields.push(Buffer.from([0]));
  return frame('E', Buffer.concat(fields));
}

export const authenticationCleartextPassword = (): Buffer => frame('R', int32(3));
export const authenticationOk = (): Buffer => frame('R', int32(0));
export const parameterStatus = (name: string, value: string): Buffer => frame('S', Buffer.concat([cstring(name), cstring(value)]));
export const backendKeyData = (pid: number, secret: number): Buffer => frame('K', Buffer.concat([int32(pid), int32(secret)]));
export const readyForQuery = (status: 'I' | 'T' | 'E' = 'I'): Buffer => frame('Z', Buffer.from(status, 'latin1'));
export const terminate = (): Buffer => frame('X', Buffer.alloc(0));

/** SQLSTATEs the gateway answers with. */
export const SQLSTATE = {
  invalidPassword: '28P01',
  invalidAuthorization: '28000',
  protocolViolation: '08P01',
  adminShutdown: '57P01',
  connectionFailure: '08006',
  cannotConnectNow: '57P03',
} as const;
