/** Roles of API.md. */
export type CustosRole = 'custos:admin' | 'custos:auditor' | 'custos:hr' | 'custos:checker';

/** The authenticated caller of a request. */
export interface Principal {
  /** The caller's identity id (the token's `sub`), or `email:<address>` when only an email was given. */
  sub: string;
  email?: string;
  roles: string[];
  amr: string[];
  /** The token's issuer (`iss`): tokens of the development issuer are accepted from loopback clients only. */
  issuer: string;
  /** The authentication context class the provider reports (`acr`), for step-up. */
  acr?: string;
  /** When the caller logged in (`auth_time`, seconds since the epoch), for step-up freshness. */
  authTime?: number;
}

/**
 * freshMfa is the principal as step-up rules judge it: `mfa` stays in `amr` only while the login
 * it proves (`auth_time`) is at most `maxAgeSec` old (a token without `auth_time` proves no
 * recent login). Every other claim is kept.
 */
export function freshMfa(principal: Principal, maxAgeSec: number, nowMs: number): Principal {
  if (!principal.amr.includes('mfa')) return principal;
  const fresh = principal.authTime !== undefined && nowMs / 1000 - principal.authTime <= maxAgeSec;
  return fresh ? principal : { ...principal, amr: principal.amr.filter((method) => method !== 'mfa') };
}

/** The `actor` recorded on events caused by this caller. */
export function actorOf(principal: Principal): string {
  return principal.sub;
}
