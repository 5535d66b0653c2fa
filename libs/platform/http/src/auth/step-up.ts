import type { Principal } from './principal';

/**
 * What counts as a step-up login (CUSTOS_STEP_UP_MAX_AGE, CUSTOS_STEP_UP_AMR, CUSTOS_STEP_UP_ACR):
 * a method of `amrValues` in the token's `amr`, or an `acr` (or one of Entra ID's `acrs`) among
 * `acrValues`, from a login (`auth_time`) at most `maxAgeSec` old.
 */
export interface StepUpSettings {
  /** How recent the login must be, in seconds (default 900). */
  maxAgeSec: number;
  /**
   * Authentication methods (`amr`) that show a second factor (default `mfa`, RFC 8176's; Keycloak
   * names each method its own way, `otp` or `hwk`, unless told to say `mfa`).
   */
  amrValues?: readonly string[];
  /**
   * Authentication context classes that count as a multi-factor login, strongest first
   * (`urn:okta:loa:2fa:any`, a Keycloak level such as `gold`); empty: only `amr` counts. They are
   * also what a step-up challenge asks the client to request (`acr_values`).
   */
  acrValues: readonly string[];
}

export const DEFAULT_STEP_UP: StepUpSettings = { maxAgeSec: 900, amrValues: ['mfa'], acrValues: [] };
const DEFAULT_AMR: readonly string[] = ['mfa'];

/** The problem kind of every context's step-up refusal (the domains' StepUpRequired). */
export const STEP_UP_PROBLEM_TYPE = 'urn:custos:problem:step-up-required';

/** An acr value as a challenge can carry it: no space (acr_values is space-separated), no quote or backslash (a quoted header parameter). */
export const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/;

/**
 * The principal as step-up rules judge it. The domains ask one question, whether `amr` holds
 * `mfa`; this answers it for every provider: `mfa` is in `amr` exactly when the token shows a
 * multi-factor login (its `amr` holds one of `amrValues`, or its `acr` or one of its `acrs` is one
 * of `acrValues`) made at most
 * `maxAgeSec` ago by its `auth_time` (a token without `auth_time` proves no recent login). Every
 * other claim is kept as the token gave it.
 */
export function judgeStepUp(principal: Principal, settings: StepUpSettings, nowMs: number): Principal {
  const amrValues = settings.amrValues ?? DEFAULT_AMR;
  const claimed =
    principal.amr.some((method) => amrValues.includes(method)) ||
    (principal.acr !== undefined && settings.acrValues.includes(principal.acr)) ||
    (principal.acrs?.some((context) => settings.acrValues.includes(context)) ?? false);
  const fresh = claimed && principal.authTime !== undefined && nowMs / 1000 - principal.authTime <= settings.maxAgeSec;
  // A token's own `mfa` counts only when the settings say it does (amrValues), and only while fresh.
  if (!fresh) return principal.amr.includes('mfa') ? { ...principal, amr: principal.amr.filter((method) => method !== 'mfa') } : principal;
  return principal.amr.includes('mfa') ? principal : { ...principal, amr: [...principal.amr, 'mfa'] };
}

/** What a step-up refusal adds to its problem and its headers so that a client knows what to ask its provider for. */
export interface StepUpChallenge {
  /** Problem extensions: `max_age` (seconds), and `acr_values` (space-separated) when acr values are configured. */
  extensions: { max_age: number; acr_values?: string };
  headers: { 'WWW-Authenticate': string };
}

/**
 * The challenge of a step-up refusal, after RFC 9470 (OAuth 2.0 Step Up Authentication
 * Challenge): `WWW-Authenticate: Bearer error="insufficient_user_authentication"` with the
 * `acr_values` and `max_age` the client should send in its next authorization request, the same
 * two in the problem body. Custos answers it with 403 where RFC 9470 uses 401: the token is valid
 * and the caller is known, only this action needs a fresher or stronger login (API.md).
 */
export function stepUpChallenge(settings: StepUpSettings): StepUpChallenge {
  const acrValues = settings.acrValues.join(' ');
  const parameters = [
    'error="insufficient_user_authentication"',
    'error_description="a multi-factor login is required for this action"',
    ...(acrValues ? [`acr_values="${acrValues}"`] : []),
    `max_age="${settings.maxAgeSec}"`,
  ];
  return {
    extensions: { max_age: settings.maxAgeSec, ...(acrValues ? { acr_values: acrValues } : {}) },
    headers: { 'WWW-Authenticate': `Bearer ${parameters.join(', ')}` },
  };
}
