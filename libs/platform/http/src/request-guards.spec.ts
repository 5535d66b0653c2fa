import { Body, Controller, Get, HttpCode, INestApplication, Module, Param, Post, Query } from '@nestjs/common';
import { createPgliteDatabase, SqlDatabase } from '@custos/platform/event-store';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { Roles } from './auth/auth.guard';
import { DevTokenIssuer } from './auth/token-verifier';
import { createCustosApp } from './bootstrap';
import { PlatformController } from './platform.controller';
import { toProblem } from './problem.filter';

class NoteDto {
  @IsString() @MaxLength(200) text!: string;
  @IsOptional() @IsString() tag?: string;
}

class FindQuery {
  @IsOptional() @IsString() q?: string;
}

const written: unknown[] = [];

@Controller('notes')
class NotesController {
  @Post()
  @HttpCode(201)
  @Roles('custos:admin')
  create(@Body() body: NoteDto): { n: number } {
    written.push(body);
    return { n: written.length };
  }

  @Get(':id')
  one(@Param('id') id: string, @Query() query: FindQuery): { id: string; q?: string } {
    return { id, q: query.q };
  }
}

@Module({ controllers: [NotesController] })
class NotesModule {}

describe('what no route may accept, answered before any route', () => {
  let db: SqlDatabase;
  let app: INestApplication;
  let url: string;
  let issuer: DevTokenIssuer;
  let admin: string;

  beforeAll(async () => {
    db = await createPgliteDatabase();
    issuer = await DevTokenIssuer.create();
    app = await createCustosApp({ title: 'test', modules: [{ module: NotesModule }], verifier: issuer, devIssuer: issuer, db, healthChecks: [] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    admin = await issuer.issue({ sub: 'admin-1', roles: ['custos:admin'] });
  });

  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  beforeEach(() => {
    written.length = 0;
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers }, body });

  async function expectProblem(response: Response, status: number): Promise<Record<string, unknown>> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    return (await response.json()) as Record<string, unknown>;
  }

  it('answers JSON nested 3,000 levels deep with a 400, even without a token (it was a RangeError, a 500)', async () => {
    const deep = '{"sub":"x","roles":' + '['.repeat(3000) + ']'.repeat(3000) + '}';
    const body = await expectProblem(await fetch(`${url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }), 400);
    expect(body.errors).toEqual([{ field: expect.stringMatching(/^roles/), message: expect.stringContaining('nests deeper than 32 levels') }]);
    await expectProblem(await post('/notes', '{"text":' + '['.repeat(40) + ']'.repeat(40) + '}'), 400);
    expect(written).toEqual([]);
  });

  it('answers a body over the limit with 413 before the token is checked (it was a 500)', async () => {
    const big = JSON.stringify({ text: 'x'.repeat(200 * 1024) });
    expect(await expectProblem(await fetch(`${url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }), 413)).toMatchObject({
      type: 'urn:custos:problem:payload-too-large',
    });
    await expectProblem(await post('/notes', big), 413);
    expect(written).toEqual([]);
  });

  it('answers a NUL character in a body, a path or a query with a 400 naming where', async () => {
    expect(await expectProblem(await post('/notes', '{"text":"a\\u0000b"}'), 400)).toMatchObject({ errors: [{ field: 'text' }] });
    expect(await expectProblem(await post('/notes', '{"text":"ok","a\\u0000":"b"}'), 400)).toMatchObject({ errors: [{ field: 'body' }] });
    expect(await expectProblem(await fetch(`${url}/notes/a%00b`, { headers: { authorization: `Bearer ${admin}` } }), 400)).toMatchObject({ errors: [{ field: 'url' }] });
    await expectProblem(await fetch(`${url}/notes/ab?q=x%00`, { headers: { authorization: `Bearer ${admin}` } }), 400);
    expect(written).toEqual([]);
  });

  it('refuses prototype names in bodies and queries, and Object.prototype stays as it was', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const body of ['{"text":"x","__proto__":{"roles":["custos:admin"]}}', '{"text":"x","constructor":{"prototype":{"roles":["custos:admin"]}}}', '{"text":"x","tag":{"__proto__":{"isAdmin":true}}}']) {
      await expectProblem(await post('/notes', body), 400);
    }
    await expectProblem(await fetch(`${url}/notes/ab?__proto__=x`, { headers: { authorization: `Bearer ${admin}` } }), 400);
    // Form bodies are not parsed at all: a JSON route answers them 415 (unsupported media type).
    await expectProblem(
      await fetch(`${url}/notes`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${admin}` }, body: '__proto__[roles]=custos:admin&text=x' }),
      415,
    );
    expect(written).toEqual([]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
    const nobody = await issuer.issue({ sub: 'nobody' });
    await expectProblem(await post('/notes', '{"text":"x"}', { authorization: `Bearer ${nobody}` }), 403);
  });

  it('issues development tokens to clients on this machine only', async () => {
    const controller = app.get(PlatformController);
    const from = (remoteAddress: string) => ({ socket: { remoteAddress } }) as unknown as Parameters<PlatformController['devToken']>[1];
    await expect(controller.devToken({ sub: 'admin-1', roles: ['custos:admin'] }, from('127.0.0.1'))).resolves.toMatchObject({ token_type: 'Bearer' });
    const refusal = await controller.devToken({ sub: 'admin-1', roles: ['custos:admin'] }, from('10.1.2.3')).catch((error: unknown) => error);
    expect(toProblem(refusal)).toMatchObject({ status: 403 });
  });

  it('still takes a good request', async () => {
    expect((await post('/notes', '{"text":"fine 😀","tag":"t"}')).status).toBe(201);
    expect(await (await fetch(`${url}/notes/ab?q=x`, { headers: { authorization: `Bearer ${admin}` } })).json()).toEqual({ id: 'ab', q: 'x' });
  });

  it('replays a write whose body has the same properties in another order (it was a 422)', async () => {
    const first = await post('/notes', '{"text":"x","tag":"t"}', { 'idempotency-key': 'k-order' });
    expect(first.status).toBe(201);
    const again = await post('/notes', '{"tag":"t","text":"x"}', { 'idempotency-key': 'k-order' });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(written).toHaveLength(1);
    await expectProblem(await post('/notes', '{"tag":"t","text":"y"}', { 'idempotency-key': 'k-order' }), 422);
  });
});
