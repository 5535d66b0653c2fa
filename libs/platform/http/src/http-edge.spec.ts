import { Body, Controller, Delete, Get, HttpCode, Logger, Module, Param, Post, Query } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPgliteDatabase, SqlDatabase } from '@custos/platform/event-store';
import { IsEmail, IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Roles } from './auth/auth.guard';
import { DevTokenIssuer } from './auth/token-verifier';
import { createCustosApp } from './bootstrap';

class TicketDto {
  @IsString() @IsNotEmpty() @MaxLength(200) title!: string;
  @IsEmail() reporter!: string;
  @IsIn(['low', 'high']) priority!: 'low' | 'high';
  @IsOptional() @IsISO8601({ strict: true }) @Matches(/Z$/, { message: 'dueAt must be in UTC' }) dueAt?: string;
}

class TicketQuery {
  @IsOptional() @IsString() q?: string;
}

@Controller('tickets')
class TicketsController {
  @Post()
  @HttpCode(201)
  @Roles('custos:admin')
  create(@Body() body: TicketDto): { title: string } {
    new Logger('tickets').warn(`ticket ${body.title}`);
    return { title: body.title };
  }

  @Get(':id')
  one(@Param('id') id: string, @Query() query: TicketQuery): { id: string; q?: string } {
    return { id, q: query.q };
  }

  @Delete(':id')
  @HttpCode(204)
  remove(): void {}
}

@Module({ controllers: [TicketsController] })
class TicketsModule {}

/** The HTTP edge on Fastify: status codes and headers of what routes do not serve, the access log. */
describe('the HTTP edge', () => {
  let db: SqlDatabase;
  let app: NestFastifyApplication;
  let url: string;
  let admin: string;
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';

  beforeAll(async () => {
    db = await createPgliteDatabase();
    const issuer = await DevTokenIssuer.create();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw += chunk.toString();
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    app = await createCustosApp({ title: 'test', modules: [{ module: TicketsModule }], verifier: issuer, devIssuer: issuer, db, healthChecks: [], logger });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    admin = await issuer.issue({ sub: 'admin-1', roles: ['custos:admin'] });
  });

  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const good = { title: 'printer', reporter: 'ada@example.com', priority: 'low' };
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/tickets`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers }, body });

  async function problemOf(response: Response, status: number): Promise<Record<string, unknown>> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    return (await response.json()) as Record<string, unknown>;
  }

  it('answers a body over 100 KiB with 413, before the token is checked', async () => {
    const big = JSON.stringify({ ...good, title: 'x'.repeat(200 * 1024) });
    const response = await fetch(`${url}/tickets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(await problemOf(response, 413)).toMatchObject({ type: 'urn:custos:problem:payload-too-large' });
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'title=printer'],
    ['plain text', 'text/plain', JSON.stringify(good)],
    ['XML', 'application/xml', '<ticket/>'],
  ])('answers %s sent to a JSON route with 415', async (_what, type, body) => {
    expect(await problemOf(await post(body, { 'content-type': type }), 415)).toMatchObject({ type: 'urn:custos:problem:unsupported-media-type' });
  });

  it('answers a known path with a method it does not serve with 405 and Allow', async () => {
    const response = await fetch(`${url}/tickets/t1`, { method: 'PUT', headers: { authorization: `Bearer ${admin}` } });
    expect(await problemOf(response, 405)).toMatchObject({ type: 'urn:custos:problem:method-not-allowed' });
    expect(response.headers.get('allow')).toBe('GET, HEAD, DELETE');
    expect((await problemOf(await fetch(`${url}/tickets`), 405)).type).toBe('urn:custos:problem:method-not-allowed');
    await problemOf(await fetch(`${url}/nothing-here`), 404);
  });

  it('challenges a request without a token, and one with a refused token, with WWW-Authenticate', async () => {
    const without = await fetch(`${url}/tickets/t1`);
    expect(await problemOf(without, 401)).toMatchObject({ type: 'urn:custos:problem:unauthenticated' });
    expect(without.headers.get('www-authenticate')).toBe('Bearer');
    const refused = await fetch(`${url}/tickets/t1`, { headers: { authorization: 'Bearer not-a-token' } });
    await problemOf(refused, 401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('names each bad field once, with its most telling constraint', async () => {
    const body = await problemOf(await post(JSON.stringify({ reporter: 'nope', priority: 'urgent', dueAt: 'tomorrow', extra: 1 })), 400);
    expect(body.type).toBe('urn:custos:problem:validation');
    expect(body.errors).toEqual([
      { field: 'extra', message: 'property extra should not exist' },
      { field: 'title', message: 'title should not be empty' },
      { field: 'reporter', message: 'reporter must be an email' },
      { field: 'priority', message: 'priority must be one of the following values: low, high' },
      { field: 'dueAt', message: 'dueAt must be a valid ISO 8601 date string' },
    ]);
    const wrongType = await problemOf(await post(JSON.stringify({ ...good, title: 42 })), 400);
    expect(wrongType.errors).toEqual([{ field: 'title', message: 'title must be a string' }]);
  });

  it('gives the same problem type to the same error on every path', async () => {
    const notJson = await problemOf(await post('{"title":'), 400);
    const badField = await problemOf(await post('{}'), 400);
    const nul = await problemOf(await fetch(`${url}/tickets/a%00b`, { headers: { authorization: `Bearer ${admin}` } }), 400);
    const protoQuery = await problemOf(await fetch(`${url}/tickets/a?__proto__=x`, { headers: { authorization: `Bearer ${admin}` } }), 400);
    expect(new Set([notJson.type, badField.type, nul.type, protoQuery.type])).toEqual(new Set(['urn:custos:problem:validation']));
  });

  it('echoes a client X-Request-Id, makes one up otherwise, and logs one line per request without the token', async () => {
    lines.length = 0;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const echoed = await post(JSON.stringify(good), { 'x-request-id': 'req-42', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-correlation-id': 'corr-7', cookie: 'session=s3cret' });
    expect(echoed.status).toBe(201);
    expect(echoed.headers.get('x-request-id')).toBe('req-42');
    const made = await fetch(`${url}/tickets/t1?access_token=${admin}`, { headers: { authorization: `Bearer ${admin}` } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const spoofed = await fetch(`${url}/tickets/t1`, { headers: { authorization: `Bearer ${admin}`, 'x-request-id': 'no spaces; "quotes" either' } });
    expect(spoofed.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const requests = lines.filter((line) => line.msg === 'request');
    expect(requests[0]).toMatchObject({ requestId: 'req-42', method: 'POST', route: '/tickets', status: 201, principal: 'admin-1', correlationId: 'corr-7', traceId, durationMs: expect.any(Number) });
    expect(requests[1]).toMatchObject({ requestId: made.headers.get('x-request-id'), route: '/tickets/:id', status: 400, url: '/tickets/t1?access_token=[redacted]' });
    // Nest's Logger writes into the same JSON stream, naming its context.
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, context: 'tickets', msg: 'ticket printer' }));
    expect(raw).not.toContain(admin);
    expect(raw).not.toContain('s3cret');
    expect(raw).not.toMatch(/\u001b\[/);
  });
});
