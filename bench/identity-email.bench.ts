/**
 * Identity-from-email benchmark: what CUSTOS_OIDC_IDENTITY_FROM=email costs an authenticated
 * request, beside the same requests with identities from `sub`, in the same run.
 *
 *   npm run bench:identity-email                                   (100,000 identities, DATABASE_URL or a throwaway cluster)
 *   BENCH_IDENTITIES=10000 BENCH_ROUND_MS=1000 npm run bench:identity-email
 *
 * Three Custos HTTP apps in this process (createCustosApp, the platform's guard, validation and
 * problem filter; tokens of the development issuer behind CachingTokenVerifier, as startCustos
 * composes them) serve GET /me, which answers the caller's identity id:
 * - sub (the baseline): the token's `sub` is the identity;
 * - email, SQL every request: the token's `email` looked up in the identities view on PostgreSQL
 *   (IdentityEmailResolver) each time: what the identity service would pay without a cache (a
 *   diagnostic);
 * - email, in process (1 s): the same lookup behind CachingIdentityResolver for
 *   IN_PROCESS_EMAIL_CACHE_MS, as IdentityModule composes it for the identity service and the
 *   all-in-one;
 * - email, cached 60 s: as the other services hold it in steady state (a miss there costs one
 *   rpc.identity.resolve-email over NATS on top; bench:check measures such a round trip).
 * 8 closed-loop keep-alive clients, each request with the token of one of 1,000 people (every
 * address resolves to its identity: checked before timing). The baseline and each variant
 * alternate in rounds so that drift on a shared machine falls on both.
 */
import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IdentitiesView } from '../libs/identity/application/src/read-models/identities/identities-view';
import { IdentityEmailResolver } from '../libs/identity/application/src/identity-email-resolver';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { SqlEventStore } from '../libs/platform/event-store/src/sql-event-store';
import { CurrentPrincipal } from '../libs/platform/http/src/auth/auth.guard';
import { CachingIdentityResolver, IDENTITY_RESOLVER, type IdentityResolver } from '../libs/platform/http/src/auth/identity-resolver';
import type { Principal } from '../libs/platform/http/src/auth/principal';
import { CachingTokenVerifier, DevTokenIssuer } from '../libs/platform/http/src/auth/token-verifier';
import { createCustosApp } from '../libs/platform/http/src/bootstrap';
import { createTestDatabase } from '../libs/platform/testing/src/postgres';
import { IN_PROCESS_EMAIL_CACHE_MS } from '../libs/identity/api/src/identity.module';
import { alternating, closedLoop, getRequest, HttpConnection, percentile, perSecond, type Run } from './support/load';

const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 100_000);
const PEOPLE = 1000;
const CLIENTS = 8;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3000);
const WARM_UP_MS = 2000;

@Controller('me')
class MeController {
  @Get()
  me(@CurrentPrincipal() principal: Principal): { sub: string } {
    return { sub: principal.sub };
  }
}

@Module({ controllers: [MeController] })
class MeModule {}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const database = await createTestDatabase('custos_bench_identity_email');
  const db = createPgDatabase(database.url, { max: 8, applicationName: 'custos-bench-identity-email' });
  const apps: NestFastifyApplication[] = [];
  const connections: HttpConnection[] = [];
  try {
    const store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    const view = new IdentitiesView(db, store, 'identity');
    await view.migrate();
    // The view's rows as the projection writes them; one in ten a leaver, addresses in mixed case as HR sends them.
    await db.query(
      `INSERT INTO identity.identities (identity_id, employee_id, email, department, status, snapshot, version, system_of_record)
       SELECT 'id-' || i, 'E-' || i, 'Person.' || i || '@Example.com', 'Engineering', CASE WHEN i % 10 = 0 THEN 'terminated' ELSE 'active' END, '{}'::jsonb, 1, 'workday'
       FROM generate_series(1, $1::int) AS i`,
      [IDENTITIES],
    );
    await db.query('ANALYZE identity.identities');
    const resolver = new IdentityEmailResolver(view);

    const issuer = await DevTokenIssuer.create();
    const people = Array.from({ length: PEOPLE }, (_, k) => {
      // an active one: every tenth identity is a leaver
      const drawn = 1 + ((k * 97) % IDENTITIES);
      const n = drawn % 10 === 0 ? drawn - 1 : drawn;
      return { identityId: `id-${n}`, email: `person.${n}@example.com` };
    });
    const tokens = await Promise.all(people.map((p, k) => issuer.issue({ sub: `idp-${k}`, email: p.email })));

    const start = async (identityFrom: 'sub' | 'email', inProcess?: IdentityResolver): Promise<string> => {
      @Module({ providers: inProcess ? [{ provide: IDENTITY_RESOLVER, useValue: inProcess }] : [], exports: inProcess ? [IDENTITY_RESOLVER] : [] })
      class ResolverModule {}
      const app = await createCustosApp({
        title: 'bench',
        modules: [{ module: MeModule }, { module: ResolverModule }],
        verifier: new CachingTokenVerifier(issuer),
        db,
        healthChecks: [],
        identityFrom,
        identityResolver: inProcess,
        // Every client is 127.0.0.1: no limit on failures here (there are none, checked below).
        failedAuthLimit: { limit: 0, windowSec: 60 },
      });
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    };
    const targets = {
      sub: await start('sub'),
      sql: await start('email', resolver),
      inProcess: await start('email', new CachingIdentityResolver(resolver, { positiveMs: IN_PROCESS_EMAIL_CACHE_MS, negativeMs: IN_PROCESS_EMAIL_CACHE_MS })),
      cached: await start('email', new CachingIdentityResolver(resolver, { positiveMs: 60_000 })),
    };

    // Before timing: each variant answers each person as the identity the bench expects.
    for (const [name, url] of Object.entries(targets)) {
      const connection = await HttpConnection.open(url);
      connections.push(connection);
      for (let k = 0; k < PEOPLE; k += 37) {
        const answer = await connection.send(getRequest(url, '/me', { authorization: `Bearer ${tokens[k]}` }));
        const expected = name === 'sub' ? `idp-${k}` : people[k].identityId;
        if (answer.status !== 200 || (JSON.parse(answer.body) as { sub: string }).sub !== expected) throw new Error(`${name}: person ${k} answered ${answer.status} ${answer.body}, expected ${expected}`);
      }
    }

    const load = async (url: string) => {
      const clients = await Promise.all(Array.from({ length: CLIENTS }, () => HttpConnection.open(url)));
      connections.push(...clients);
      const requests = tokens.map((token) => getRequest(url, '/me', { authorization: `Bearer ${token}` }));
      let failures = 0;
      const run = (ms: number) =>
        closedLoop(CLIENTS, ms, async (c, i) => {
          const answer = await clients[c].send(requests[(c * 131 + i * 7) % requests.length]);
          if (answer.status !== 200) failures++;
        });
      return { run, failures: () => failures };
    };
    const sub = await load(targets.sub);
    const sql = await load(targets.sql);
    const inProcess = await load(targets.inProcess);
    const cached = await load(targets.cached);

    console.log(`identity-email bench: ${fmt(IDENTITIES)} identities on PostgreSQL ${(await db.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version}, ${PEOPLE} people, ${CLIENTS} clients, ${ROUNDS} rounds of ${ROUND_MS} ms`);
    const line = (name: string, run: Run, base: Run) =>
      console.log(
        `  ${name.padEnd(28)} ${fmt(perSecond(run)).padStart(7)} req/s (${fmt(perSecond(run) / perSecond(base), 2)}x)   p50 ${fmt(percentile(run, 50), 2)} ms (${fmt(percentile(run, 50) / percentile(base, 50), 2)}x)   p99 ${fmt(percentile(run, 99), 2)} ms (${fmt(percentile(run, 99) / percentile(base, 99), 2)}x)`,
      );
    for (const [name, variant] of [
      ['email, SQL every request', sql],
      ['email, in process (1 s)', inProcess],
      ['email, cached 60 s', cached],
    ] as const) {
      const [base, run] = await alternating(sub.run, variant.run, ROUNDS, ROUND_MS, WARM_UP_MS);
      line('sub (baseline)', base, base);
      line(name, run, base);
    }
    const failed = sub.failures() + sql.failures() + inProcess.failures() + cached.failures();
    if (failed > 0) throw new Error(`${failed} requests were not answered 200`);
  } finally {
    for (const connection of connections) connection.close();
    for (const app of apps) await app.close();
    await db.close();
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
