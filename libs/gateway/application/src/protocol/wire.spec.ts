import { MessageReader, ProtocolViolation, errorResponse, readBind, readCommandTag, readError, readStartup, PROTOCOL_3 } from './wire';

function typed(code: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(code, 0, 'latin1');
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstr = (s: string) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('the wire protocol as the gateway reads it', () => {
  it('cuts messages out of chunks that split them anywhere, keeping each frame as it came', () => {
    const q1 = typed('Q', cstr('SELECT 1'));
    const q2 = typed('Q', cstr('SELECT 2'));
    const all = Buffer.concat([q1, q2]);
    const reader = new MessageReader(1024);
    reader.typed = true;
    const seen: string[] = [];
    for (let i = 0; i < all.length; i += 3) {
      reader.push(all.subarray(i, i + 3));
      for (let m = reader.next(); m; m = reader.next()) seen.push(`${String.fromCharCode(m.code)}:${m.body.toString('utf8', 0, m.body.length - 1)}:${m.frame.equals(m.code === 0x51 && seen.length === 0 ? q1 : q2)}`);
    }
    expect(seen).toEqual(['Q:SELECT 1:true', 'Q:SELECT 2:true']);
    expect(reader.pending).toBe(0);
  });

  it('refuses a length beyond the limit or below the header before buffering it', () => {
    const reader = new MessageReader(100);
    reader.typed = true;
    reader.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    expect(() => reader.next()).toThrow(ProtocolViolation);
    const short = new MessageReader(100);
    short.push(Buffer.from([0, 0, 0, 2]));
    expect(() => short.next()).toThrow(ProtocolViolation);
  });

  it('reads the startup parameters into a record without a prototype', () => {
    const body = Buffer.concat([i32(PROTOCOL_3), cstr('user'), cstr('ada'), cstr('__proto__'), cstr('x'), cstr('database'), cstr('pg-prod'), Buffer.from([0])]);
    const { code, parameters } = readStartup(body);
    expect(code).toBe(PROTOCOL_3);
    expect(parameters.user).toBe('ada');
    expect(parameters.database).toBe('pg-prod');
    expect(Object.getPrototypeOf(parameters)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses a startup message whose strings never end', () => {
    expect(() => readStartup(Buffer.concat([i32(PROTOCOL_3), Buffer.from('user')]))).toThrow(ProtocolViolation);
  });

  it('reads Bind parameters: text, binary as hex, and NULL', () => {
    const body = Buffer.concat([cstr(''), cstr('s1'), i16(3), i16(0), i16(1), i16(0), i16(3), i32(3), Buffer.from('abc'), i32(2), Buffer.from([0xca, 0xfe]), i32(-1), i16(0)]);
    expect(readBind(body)).toEqual({ portal: '', statement: 's1', parameters: ['abc', '\\xcafe', null] });
  });

  it('refuses a Bind whose parameter runs past the message', () => {
    const body = Buffer.concat([cstr(''), cstr(''), i16(0), i16(1), i32(50), Buffer.from('abc')]);
    expect(() => readBind(body)).toThrow(ProtocolViolation);
  });

  it('reads command tags and errors, and writes errors a client reads back', () => {
    expect(readCommandTag(cstr('INSERT 0 3'))).toEqual({ command: 'INSERT', rows: 3 });
    expect(readCommandTag(cstr('SELECT 2'))).toEqual({ command: 'SELECT', rows: 2 });
    expect(readCommandTag(cstr('CREATE TABLE'))).toEqual({ command: 'CREATE' });
    const frame = errorResponse('FATAL', '28P01', 'password authentication failed for user "ada"');
    expect(frame[0]).toBe(0x45);
    expect(readError(frame.subarray(5))).toEqual({ code: '28P01', message: 'password authentication failed for user "ada"' });
  });
});
