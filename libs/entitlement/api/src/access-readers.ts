import { forbidden, type CustosRole, type Principal } from '@custos/platform/http';

/**
 * Who may ask about anyone's access: administrators, auditors, and policy-enforcement points
 * (services and connector tokens holding `custos:checker`).
 */
export const ACCESS_READERS: readonly CustosRole[] = ['custos:admin', 'custos:auditor', 'custos:checker'];

/**
 * mayAskAbout: an identity may ask about its own access (GET /check, /access/{id}, /access/{id}/sod);
 * holders of ACCESS_READERS about anyone's; anyone else gets 403. One rule for the check API's
 * fast path and its Nest route, so the two never disagree.
 */
export function mayAskAbout(principal: Principal, identityId: string): void {
  if (principal.sub === identityId) return;
  if (principal.roles.some((role) => (ACCESS_READERS as readonly string[]).includes(role))) return;
  throw forbidden(`you may ask only about your own access; asking about others needs one of the roles ${ACCESS_READERS.join(', ')}`);
}
