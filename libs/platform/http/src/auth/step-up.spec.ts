import { Controller, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPgliteDatabase, SqlDatabase } from '@custos/platform/event-store';
import { createCustosApp } from '../bootstrap';
import { registerDomainErrorStatuses } from '../problem.filter';
import { readAuthSettings } from './auth-settings';
import { CurrentPrincipal } from './auth.guard';
import type { Principal } from './principal';
import { judgeStepUp, stepUpChallenge, type StepUpSettings } from './step-up';
import { DevTokenIssuer } from './token-verifier';

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
    expect(readAuthSettings({ CUSTOS_STEP_UP_ACR: 'gold, urn:okta:loa:2fa:any gold', CUSTOS_STEP_UP_MAX_AGE: '60' }).stepUp).toEqual({ maxAgeSec: 60, acrValues: ['gold', 'urn:okta:loa:2fa:any'] });
    expect(readAuthSettings({}).stepUp).toEqual({ maxAgeSec: 900, acrValues: [] });
    for (const bad of ['"gold"', 'a\\b', 'é']) expect(() => readAuthSettings({ CUSTOS_STEP_UP_ACR: bad })).toThrow(/CUSTOS_STEP_UP_ACR/);
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
