import type { IdentityStatus } from '@custos/identity/contracts';
import { normaliseEmail, type EmailResolution, type IdentityResolver } from '@custos/platform/http';
import type { IdentitiesView } from './read-models/identities/identities-view';

/**
 * Which identity an address names, given every identity that has it: the one identity that has
 * not left, if it is active. A leaver names nobody (their login must not act as anyone), so an
 * address handed on after its holder left names the new holder; two identities that have not left
 * with one address name none (`ambiguous`), as does one that has not started yet (`inactive`).
 */
export function resolveEmailAmong(holders: ReadonlyArray<{ identityId: string; status: IdentityStatus }>): EmailResolution {
  if (holders.length === 0) return { identityId: null, reason: 'unknown' };
  const current = holders.filter((holder) => holder.status !== 'terminated');
  if (current.length > 1) return { identityId: null, reason: 'ambiguous' };
  if (current.length === 1 && current[0].status === 'active') return { identityId: current[0].identityId };
  return { identityId: null, reason: 'inactive' };
}

/**
 * The identity context's answer to `rpc.identity.resolve-email`, from its own read model of
 * identities; also the in-process resolver of a process that serves the identity context.
 */
export class IdentityEmailResolver implements IdentityResolver {
  constructor(private readonly identities: Pick<IdentitiesView, 'holdersOfEmail'>) {}

  async resolveEmail(email: string): Promise<EmailResolution> {
    const address = normaliseEmail(email);
    if (address === undefined) return { identityId: null, reason: 'unknown' };
    // Three rows tell one from several; the index makes it one probe whatever the table's size.
    return resolveEmailAmong(await this.identities.holdersOfEmail(address, 3));
  }
}
