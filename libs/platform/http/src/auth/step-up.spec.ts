import { Controller, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPgliteDatabase, SqlDatabase } from '@custos/platform/event-store';
import { createCustosApp } from '../bootstrap';
import { registerDomainErrorStatuses } from '../problem.filter';
import { readAuthSettings } from './auth-settings';
import { CurrentPrincipal } from './auth.guard';
import type { Principal } from './principal';
import { judgeStepUp, stepUpChallenge, type StepUpSettings } from './step-up';
import { startOidcIssuer } from '@custos/platform/testing';
import { DevTokenIssuer, OidcTokenVerifier } from './token-verifier';

const now = Date.parse('2026-12-05T12:00:00Z');
const nowSec = now / 1000;
const caller = (amr: string[], authTime?: number, acr?: string): Principal => ({
  sub: 'ada',
  roles: [],
  amr,
  issuer: 'x',
  ...(authTime === undefined ? {} : { authTime }),
  ...(acr === undefined ? {} : { acr }),
});

describe('judgeStepUp: mfa in amr exactly when the token shows a recent multi-factor login', () => {
  const settings: StepUpSettings = { maxAgeSec: 900, acrValues: ['urn:okta:loa:2fa:any', 'gold'] };

  it.each([
    ['amr mfa, a login 10 minutes ago', caller(['pwd', 'mfa'], nowSec - 600), ['pwd', 'mfa']],
    ['amr mfa, a login 16 minutes ago', caller(['pwd', 'mfa'], nowSec - 960), ['pwd']],
    ['amr mfa without auth_time', caller(['mfa']), []],
    ['a configured acr, a login 10 minutes ago', caller(['pwd'], nowSec - 600, 'gold'), ['pwd', 'mfa']],
    ['a configured acr, a login 16 minutes ago', caller(['pwd'], nowSec - 960, 'gold'), ['pwd']],
    ['a configured acr without auth_time', caller([], undefined, 'urn:okta:loa:2fa:any'), []],
    ['an acr not configured', caller(['pwd'], nowSec - 10, 'silver'), ['pwd']],
    ['neither', caller(['pwd'], nowSec - 10), ['pwd']],
  ])('%s', (_what, principal, amr) => {
    expect(judgeStepUp(principal, settings, now).amr).toEqual(amr);
  });

  it('counts the configured amr values instead of mfa (Keycloak says otp or hwk), and an Entra ID acrs context', () => {
    const keycloak: StepUpSettings = { maxAgeSec: 900, amrValues: ['otp', 'hwk'], acrValues: [] };
    expect(judgeStepUp(caller(['pwd', 'otp'], nowSec - 10), keycloak, now).amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(judgeStepUp(caller(['pwd', 'otp'], nowSec - 960), keycloak, now).amr).toEqual(['pwd', 'otp']);
    // mfa no longer counts when the configured values do not name it.
    expect(judgeStepUp(caller(['pwd', 'mfa'], nowSec - 10), keycloak, now).amr).toEqual(['pwd']);
    const entra: StepUpSettings = { maxAgeSec: 900, acrValues: ['c1'] };
    expect(judgeStepUp({ ...caller([], nowSec - 10), acrs: ['c2', 'c1'] }, entra, now).amr).toEqual(['mfa']);
    expect(judgeStepUp({ ...caller([], nowSec - 10), acrs: ['c2'] }, entra, now).amr).toEqual([]);
  });

  it('counts no acr when none is configured, and keeps every other claim', () => {
    const principal = caller(['pwd'], nowSec - 10, 'gold');
    expect(judgeStepUp(principal, { maxAgeSec: 900, acrValues: [] }, now)).toEqual(principal);
    expect(judgeStepUp(caller(['pwd'], nowSec - 10, 'gold'), settings, now)).toEqual({ ...principal, amr: ['pwd', 'mfa'] });
  });
});

describe('stepUpChallenge (RFC 9470)', () => {
  it('asks for max_age, and for the configured acr values when there are some', () => {
    expect(stepUpChallenge({ maxAgeSec: 300, acrValues: [] })).toEqual({
      extensions: { max_age: 300 },
      headers: { 'WWW-Authenticate': 'Bearer error="insufficient_user_authentication", error_description="a multi-factor login is required for this action", max_age="300"' },
    });
    expect(stepUpChallenge({ maxAgeSec: 900, acrValues: ['gold', 'urn:okta:loa:2fa:any'] })).toEqual({
      extensions: { max_age: 900, acr_values: 'gold urn:okta:loa:2fa:any' },
      headers: {
        'WWW-Authenticate': 'Bearer error="insufficient_user_authentication", error_description="a multi-factor login is required for this action", acr_values="gold urn:okta:loa:2fa:any", max_age="900"',
      },
    });
  });

  it('reads CUSTOS_STEP_UP_ACR (commas or spaces) and refuses a value a header could not quote', () => {
    expect(readAuthSettings({ CUSTOS_STEP_UP_ACR: 'gold, urn:okta:loa:2fa:any gold', CUSTOS_STEP_UP_MAX_AGE: '60' }).stepUp).toEqual({ maxAgeSec: 60, amrValues: ['mfa'], acrValues: ['gold', 'urn:okta:loa:2fa:any'] });
    expect(readAuthSettings({}).stepUp).toEqual({ maxAgeSec: 900, amrValues: ['mfa'], acrValues: [] });
    expect(readAuthSettings({ CUSTOS_STEP_UP_AMR: 'otp,hwk' }).stepUp.amrValues).toEqual(['otp', 'hwk']);
    for (const bad of ['"gold"', 'a\\b', 'é']) expect(() => readAuthSettings({ CUSTOS_STEP_UP_ACR: bad })).toThrow(/CUSTOS_STEP_UP_ACR/);
    expect(() => readAuthSettings({ CUSTOS_STEP_UP_AMR: 'o"tp' })).toThrow(/CUSTOS_STEP_UP_AMR/);
  });

  it('reads CUSTOS_OIDC_ROLE_MAP, refusing pairs it cannot use', () => {
    expect(readAuthSettings({ CUSTOS_OIDC_ROLE_MAP: 'Custos.Admin=custos:admin, Custos.Hr=custos:hr' }).claims.roleMap).toEqual({ 'Custos.Admin': 'custos:admin', 'Custos.Hr': 'custos:hr' });
    expect(readAuthSettings({}).claims.roleMap).toBeUndefined();
    for (const bad of ['Custos.Admin', '=custos:admin', 'A=admin', 'A=custos:admin,A=custos:hr', '__proto__=custos:admin', 'a b=custos:admin']) {
      expect(() => readAuthSettings({ CUSTOS_OIDC_ROLE_MAP: bad })).toThrow(/CUSTOS_OIDC_ROLE_MAP/);
    }
  });
});

describe('claims of real providers', () => {
  it('maps provider role names (CUSTOS_OIDC_ROLE_MAP), keeps the others, and reads Entra ID acrs', async () => {
    const issuer = await startOidcIssuer();
    try {
      const verifier = new OidcTokenVerifier(issuer.issuer, { audience: 'custos', claims: { subject: 'sub', roles: 'roles', roleMap: { 'Custos.Admin': 'custos:admin', 'Custos.Auditor': 'custos:auditor' } } });
      const token = await issuer.token({ sub: 'u1', roles: ['Custos.Admin', 'custos:hr', 'Other'], amr: [], extra: { acrs: ['c1', 7], acr: '1' } }, 'custos');
      expect(await verifier.verify(token)).toMatchObject({ sub: 'u1', roles: ['custos:admin', 'custos:hr', 'Other'], acrs: ['c1'], acr: '1' });
      // Entra ID names a directory extension claim with a dot: the whole name is found before a path.
      const entra = new OidcTokenVerifier(issuer.issuer, { audience: 'custos', claims: { subject: 'extn.custosId', roles: 'roles' } });
      expect((await entra.verify(await issuer.token({ sub: 'pairwise-1', extra: { 'extn.custosId': 'identity-42' } }, 'custos'))).sub).toBe('identity-42');
      expect((await entra.verify(await issuer.token({ sub: 'pairwise-2', extra: { extn: { custosId: 'identity-43' } } }, 'custos'))).sub).toBe('identity-43');
      // A name of Object.prototype is no provider role to map.
      const odd = await issuer.token({ sub: 'u2', roles: ['toString', 'constructor'] }, 'custos');
      expect((await verifier.verify(odd)).roles).toEqual(['toString', 'constructor']);
    } finally {
      await issuer.stop();
    }
  });
});

class StepUpNeeded extends Error {
  readonly code = 'step-up-required';
}
class OtherRefusal extends Error {
  readonly code = 'step-up-spec-other';
}
registerDomainErrorStatuses({ 'step-up-required': 403, 'step-up-spec-other': 403 });

@Controller('privileged')
class PrivilegedController {
  @Post('approve')
  approve(@CurrentPrincipal() principal: Principal): { amr: string[] } {
    // As the domains do: mfa in amr, else StepUpRequired.
    if (!principal.amr.includes('mfa')) throw new StepUpNeeded('approving a privileged request needs a multi-factor login');
    return { amr: principal.amr };
  }

  @Post('other')
  other(): never {
    throw new OtherRefusal('no');
  }
}

@Module({ controllers: [PrivilegedController] })
class PrivilegedModule {}

describe('a step-up refusal over HTTP', () => {
  let db: SqlDatabase;
  let issuer: DevTokenIssuer;
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    db = await createPgliteDatabase();
    issuer = await DevTokenIssuer.create();
    app = await createCustosApp({ title: 'test', modules: [{ module: PrivilegedModule }], verifier: issuer, db, healthChecks: [], stepUp: { maxAgeSec: 600, acrValues: ['gold'] } });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const post = async (path: string, token: string) => fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

  it('is a 403 step-up-required problem carrying acr_values and max_age, and the RFC 9470 challenge', async () => {
    const response = await post('/privileged/approve', await issuer.issue({ sub: 'ada', amr: ['pwd'] }));
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="a multi-factor login is required for this action", acr_values="gold", max_age="600"',
    );
    expect(await response.json()).toEqual({
      type: 'urn:custos:problem:step-up-required',
      title: 'Forbidden',
      status: 403,
      detail: 'approving a privileged request needs a multi-factor login',
      acr_values: 'gold',
      max_age: 600,
    });
  });

  it('lets a fresh mfa login through; another 403 carries no challenge', async () => {
    const approved = await post('/privileged/approve', await issuer.issue({ sub: 'ada', amr: ['pwd', 'mfa'] }));
    expect(approved.status).toBe(201);
    expect(await approved.json()).toEqual({ amr: ['pwd', 'mfa'] });
    const other = await post('/privileged/other', await issuer.issue({ sub: 'ada' }));
    expect(other.status).toBe(403);
    expect(other.headers.get('www-authenticate')).toBeNull();
    expect(await other.json()).not.toHaveProperty('max_age');
  });
});
