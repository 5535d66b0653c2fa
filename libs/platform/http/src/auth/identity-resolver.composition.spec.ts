import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPgliteDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { createCustosApp } from '../bootstrap';
import { CurrentPrincipal } from './auth.guard';
import { IDENTITY_RESOLVER, type EmailResolution, type IdentityResolver } from './identity-resolver';
import type { Principal } from './principal';
import { DevTokenIssuer } from './token-verifier';

@Controller('me')
class MeController {
  @Get()
  me(@CurrentPrincipal() principal: Principal): { sub: string } {
    return { sub: principal.sub };
  }
}

/** A resolver that names every address's identity after itself, so that an answer says which resolver gave it. */
const named = (name: string): IdentityResolver => ({ resolveEmail: async (email): Promise<EmailResolution> => ({ identityId: `${name}:${email}` }) });

/** The module of a context that owns the identities: it exports its resolver, as IdentityModule does. */
@Module({ providers: [{ provide: IDENTITY_RESOLVER, useValue: named('in-process') }], exports: [IDENTITY_RESOLVER] })
class OwnsIdentitiesModule {}

@Module({ controllers: [MeController] })
class MeModule {}

/** How createCustosApp composes the AuthGuard's resolver: the in-process one of a module first, else the given one (the bus), none with identities from `sub`. */
describe('the identity resolver createCustosApp composes', () => {
  let db: SqlDatabase;
  let issuer: DevTokenIssuer;
  const apps: NestFastifyApplication[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase();
    issuer = await DevTokenIssuer.create();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.close();
  });

  async function subOf(options: { identityFrom?: 'sub' | 'email'; identityResolver?: IdentityResolver; ownsIdentities?: boolean }): Promise<string> {
    const modules = [{ module: MeModule }, ...(options.ownsIdentities ? [{ module: OwnsIdentitiesModule }] : [])];
    const app = await createCustosApp({ title: 'test', modules, verifier: issuer, db, healthChecks: [], identityFrom: options.identityFrom, identityResolver: options.identityResolver });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const token = await issuer.issue({ sub: 'idp-1', email: 'ada@example.com' });
    const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { sub: string }).sub;
  }

  it('takes the in-process resolver of a module that owns the identities over the bus one', async () => {
    expect(await subOf({ identityFrom: 'email', identityResolver: named('bus'), ownsIdentities: true })).toBe('in-process:ada@example.com');
  });

  it('asks the given (bus) resolver in a process without the identity context', async () => {
    expect(await subOf({ identityFrom: 'email', identityResolver: named('bus') })).toBe('bus:ada@example.com');
  });

  it('asks none with identities from the subject claim', async () => {
    expect(await subOf({ identityFrom: 'sub', identityResolver: named('bus'), ownsIdentities: true })).toBe('idp-1');
  });

  it('refuses to start with identities from the email claim and no resolver', async () => {
    await expect(createCustosApp({ title: 'test', modules: [{ module: MeModule }], verifier: issuer, db, healthChecks: [], identityFrom: 'email' })).rejects.toThrow(/CUSTOS_OIDC_IDENTITY_FROM=email needs an identity resolver/);
  });
});
