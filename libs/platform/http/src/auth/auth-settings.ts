import type { FailedAuthLimit } from './failed-auth-limiter';
import { ACR_VALUE, type StepUpSettings } from './step-up';
import { DEFAULT_CLAIMS, type ClaimNames } from './token-verifier';

/** How callers are authenticated beyond the issuer itself (CustosConfig has the issuer, audience and dev auth). */
export interface AuthSettings {
  /** CUSTOS_OIDC_SUBJECT_CLAIM, CUSTOS_OIDC_ROLES_CLAIM (a dotted path: `realm_access.roles` for Keycloak) and CUSTOS_OIDC_EMAIL_CLAIM. */
  claims: ClaimNames;
  /**
   * CUSTOS_OIDC_IDENTITY_FROM: `sub` (default) takes the subject claim as the Custos identity id;
   * `email` takes the one active identity whose address is the token's email claim (asked of the
   * identity context, rpc.identity.resolve-email), and a token without one keeps its subject.
   */
  identityFrom: 'sub' | 'email';
  /** CUSTOS_OIDC_EMAIL_CACHE_TTL: how long a service remembers an address's identity, in seconds (default 60, at most 300); an unknown address 5 s at most. */
  emailCacheTtlSec: number;
  /** CUSTOS_OIDC_CLOCK_SKEW: seconds of leeway on `exp` and `nbf` (default 30, at most 300). */
  clockToleranceSec: number;
  /** CUSTOS_OIDC_JWKS_COOLDOWN: the least time between two JWKS fetches for an unknown key id, in seconds (default 30). */
  jwksCooldownSec: number;
  /** CUSTOS_DEV_AUTH_KEY_FILE: the development issuer's key, shared by the services of one machine. */
  devKeyFile?: string;
  /**
   * CUSTOS_STEP_UP_MAX_AGE: how recent a login must be for a step-up action, in seconds (default
   * 900); CUSTOS_STEP_UP_ACR: the `acr` values that count as a multi-factor login, beside `mfa` in `amr`.
   */
  stepUp: StepUpSettings;
  /** CUSTOS_AUTH_FAILURE_LIMIT (default 20, 0 for none) failed authentications per client address in CUSTOS_AUTH_FAILURE_WINDOW seconds (default 60), then 429. */
  failedAuthLimit: FailedAuthLimit;
}

const CLAIM_PATH = /^[A-Za-z_][A-Za-z0-9_:-]*(\.[A-Za-z_][A-Za-z0-9_:-]*)*$/;

/** readAuthSettings reads the authentication settings from the environment, refusing what is malformed at start. */
export function readAuthSettings(env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const claim = (name: string, fallback: string): string => {
    const value = env[name]?.trim() || fallback;
    if (!CLAIM_PATH.test(value) || value.split('.').some((part) => part === '__proto__' || part === 'constructor' || part === 'prototype')) {
      throw new Error(`${name} must be a claim name or a dotted path of them (realm_access.roles), got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const seconds = (name: string, fallback: number, max: number, unit = 'seconds'): number => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 0 || value > max) throw new Error(`${name} must be a whole number of ${unit} from 0 to ${max}, got ${JSON.stringify(text)}`);
    return value;
  };
  return {
    claims: {
      subject: claim('CUSTOS_OIDC_SUBJECT_CLAIM', DEFAULT_CLAIMS.subject),
      roles: claim('CUSTOS_OIDC_ROLES_CLAIM', DEFAULT_CLAIMS.roles),
      email: claim('CUSTOS_OIDC_EMAIL_CLAIM', 'email'),
      ...roleMap(env.CUSTOS_OIDC_ROLE_MAP),
    },
    identityFrom: identityFrom(env.CUSTOS_OIDC_IDENTITY_FROM),
    emailCacheTtlSec: seconds('CUSTOS_OIDC_EMAIL_CACHE_TTL', 60, 300),
    clockToleranceSec: seconds('CUSTOS_OIDC_CLOCK_SKEW', 30, 300),
    jwksCooldownSec: seconds('CUSTOS_OIDC_JWKS_COOLDOWN', 30, 3600),
    devKeyFile: env.CUSTOS_DEV_AUTH_KEY_FILE?.trim() || undefined,
    stepUp: {
      maxAgeSec: seconds('CUSTOS_STEP_UP_MAX_AGE', 900, 86_400),
      amrValues: env.CUSTOS_STEP_UP_AMR?.trim() ? tokenValues('CUSTOS_STEP_UP_AMR', env.CUSTOS_STEP_UP_AMR) : ['mfa'],
      acrValues: tokenValues('CUSTOS_STEP_UP_ACR', env.CUSTOS_STEP_UP_ACR),
    },
    failedAuthLimit: { limit: seconds('CUSTOS_AUTH_FAILURE_LIMIT', 20, 1_000_000, 'failures'), windowSec: seconds('CUSTOS_AUTH_FAILURE_WINDOW', 60, 86_400) },
  };
}

/** CUSTOS_OIDC_IDENTITY_FROM: `sub` or `email`, nothing else. */
function identityFrom(text: string | undefined): 'sub' | 'email' {
  const value = text?.trim() || 'sub';
  if (value !== 'sub' && value !== 'email') throw new Error(`CUSTOS_OIDC_IDENTITY_FROM must be sub or email, got ${JSON.stringify(value)}`);
  return value;
}

/** CUSTOS_STEP_UP_ACR or CUSTOS_STEP_UP_AMR: values separated by commas or spaces, each one a challenge can quote. */
function tokenValues(name: string, text: string | undefined): string[] {
  const values = (text ?? '').split(/[\s,]+/).filter(Boolean);
  const bad = values.find((value) => !ACR_VALUE.test(value));
  if (bad !== undefined) throw new Error(`${name} must list values separated by commas or spaces, each without quotes or backslashes; got ${JSON.stringify(bad)}`);
  return [...new Set(values)];
}

const ROLE_NAME = /^[\x21-\x7e]{1,200}$/;
const CUSTOS_ROLE = /^custos:[a-z][a-z0-9-]*$/;

/**
 * CUSTOS_OIDC_ROLE_MAP: `provider-name=custos:role` pairs separated by commas (`Custos.Admin=custos:admin,
 * Custos.Hr=custos:hr`). Each provider name once; each target a Custos role name.
 */
function roleMap(text: string | undefined): { roleMap?: Record<string, string> } {
  if (!text?.trim()) return {};
  const map: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = pair.lastIndexOf('=');
    const from = pair.slice(0, Math.max(eq, 0)).trim();
    const to = pair.slice(eq + 1).trim();
    if (eq <= 0 || !ROLE_NAME.test(from) || !CUSTOS_ROLE.test(to) || ['__proto__', 'constructor', 'prototype'].includes(from) || Object.hasOwn(map, from)) {
      throw new Error(`CUSTOS_OIDC_ROLE_MAP must be provider-role=custos:role pairs separated by commas, each provider role once; got ${JSON.stringify(pair)}`);
    }
    map[from] = to;
  }
  return { roleMap: { ...map } };
}
