import type { AccessCheck } from '@custos/entitlement/domain';
import type { AccessView } from './read-models/access/access-view';
import type { IdentityProfiles } from './read-models/identity-profiles/identity-profiles';
import type { KnownIdentities } from './read-models/identity-profiles/known-identities';

const UNKNOWN_IDENTITY: AccessCheck = Object.freeze({ allowed: false, reason: 'unknown-identity', grantIds: Object.freeze([]) as unknown as string[] });

/**
 * AccessChecks answers the check API (HTTP and NATS): an identity the entitlement
 * context has heard of (one with access events, or an identity profile) is checked against its
 * grants; any other is denied as `unknown-identity`, so a typo or a stale id is told apart from
 * an identity that simply lacks the entitlement.
 */
export class AccessChecks {
  constructor(
    private readonly view: AccessView,
    private readonly known: KnownIdentities,
    private readonly profiles: IdentityProfiles,
    private readonly clock: () => Date,
  ) {}

  /**
   * From memory, without I/O (GET /check and rpc.entitlement.check): a check costs no database
   * round trip, and asking about made-up ids cannot load the database. An identity recorded by
   * another replica in the last refresh interval (250 ms) may still look unknown: denied, never allowed.
   */
  check(identityId: string, entitlement: string): AccessCheck {
    if (this.view.of(identityId) === undefined && !this.known.has(identityId)) return UNKNOWN_IDENTITY;
    return this.view.check(identityId, entitlement, this.clock());
  }

  /** Whether the entitlement context has heard of the identity, asking the identity profiles when memory does not know it. */
  async isKnown(identityId: string): Promise<boolean> {
    if (this.view.of(identityId) !== undefined || this.known.has(identityId)) return true;
    // PostgreSQL text cannot hold NUL: no identity has such an id, and the query would fail.
    if (identityId.includes('\0')) return false;
    if (!(await this.profiles.get(identityId))) return false;
    this.known.add([identityId]);
    return true;
  }
}
