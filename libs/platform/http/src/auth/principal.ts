import { judgeStepUp } from './step-up';

/** Roles of API.md. */
export type CustosRole = 'custos:admin' | 'custos:auditor' | 'custos:hr' | 'custos:checker';

/** The authenticated caller of a request. */
export interface Principal {
  /**
   * The caller's identity id: the token's subject claim, or (CUSTOS_OIDC_IDENTITY_FROM=email) the
   * id of the one active identity with the token's address; `email:<address>` when a token has only
   * an address and identities are not taken from it.
   */
  sub: string;
  /** The token's address (CUSTOS_OIDC_EMAIL_CLAIM, default `email`). */
  email?: string;
  /** The token's `email_verified`, when it says: an address the provider says is unverified names no identity. */
  emailVerified?: boolean;
  roles: string[];
  amr: string[];
  /** The token's issuer (`iss`): tokens of the development issuer are accepted from loopback clients only. */
  issuer: string;
  /** The authentication context class the provider reports (`acr`), for step-up. */
  acr?: string;
  /** The authentication contexts a Microsoft Entra ID token says its login satisfied (`acrs`: c1, c2...), for step-up. */
  acrs?: string[];
  /** When the caller logged in (`auth_time`, seconds since the epoch), for step-up freshness. */
  authTime?: number;
}

/**
 * freshMfa is the principal as step-up rules judge it when only `amr` counts: `mfa` stays in
 * `amr` only while the login it proves (`auth_time`) is at most `maxAgeSec` old. judgeStepUp
 * (step-up.ts) also counts configured `acr` values.
 */
export function freshMfa(principal: Principal, maxAgeSec: number, nowMs: number): Principal {
  return judgeStepUp(principal, { maxAgeSec, amrValues: ['mfa'], acrValues: [] }, nowMs);
}

/** The `actor` recorded on events caused by this caller. */
export function actorOf(principal: Principal): string {
  return principal.sub;
}
