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
}

/** The `actor` recorded on events caused by this caller. */
export function actorOf(principal: Principal): string {
  return principal.sub;
}
