import type { AccessEvent, Grant, GrantSource } from '@custos/entitlement/contracts';
import type { AccessCheck } from '@custos/entitlement/domain';

/** What GET /access shows of one identity: its stage and the grants it holds now, in grant order. */
export interface AccessSummary {
  status: 'active' | 'terminated';
  /** When the identity was terminated (present while terminated). */
  terminatedAt?: string;
  grants: readonly Grant[];
}

/**
 * One grant held now, as GET /access shows it. A class, so that every entry shares one hidden
 * class with its fields in the object; optional fields are present as `undefined`.
 */
class HeldGrant implements Grant {
  constructor(
    readonly grantId: string,
    readonly entitlement: string,
    readonly source: GrantSource,
    readonly role: string | undefined,
    readonly ruleKey: string | undefined,
    readonly requestId: string | undefined,
    readonly grantedAt: string,
    readonly expiresAt: string | undefined,
    readonly reason: string,
  ) {}
}

/**
 * One identity's access. What a check reads sits in two small parallel arrays beside the
 * grants: the entitlement of each grant as a small integer (a packed array of small integers)
 * and its end in epoch ms (a packed array of doubles, Infinity when it has none). A check
 * scans those two contiguous arrays and touches a grant object only to name an allowing grant:
 * at a million grants, memory latency rather than computation is what a check costs.
 */
class IdentityAccess {
  terminatedAt: string | undefined = undefined;
  grants: HeldGrant[] = [];
  entitlements: number[] = [];
  ends: number[] = [];
}

/**
 * AccessIndex is the check API's read model: who holds which entitlement until when, folded from
 * the access stream events with the same rules as the access decider's `evolve` (grants added,
 * extended and removed by id, termination and reinstatement switch the stage) and answering exactly as
 * `checkAccess` does, but without the decider's ledger (issued grant ids, fulfilled requests,
 * flagged moves, SoD exceptions), which only the command side and the SoD reports need, and
 * which they read from the stream itself.
 *
 * Kept lean for a million grants: one small object per grant, with the strings that repeat
 * across identities (entitlement keys, roles, rule keys, sources, birthright reasons) shared
 * through tables bounded by the catalog and the domain's enumerations, and the ones that repeat
 * within an identity (the grant time, reason, end and request of one command) shared with the
 * identity's previous grant. Free text (a requester's justification) never enters a table.
 */
export class AccessIndex {
  private readonly identities = new Map<string, IdentityAccess>();
  /** Roles, rule keys, sources and birthright reasons: bounded by the catalog and the domain's enumerations. */
  private readonly interned = new Map<string, string>();
  /** Entitlement key to its small integer, numbered in order of first grant, and back. */
  private readonly entitlementIds = new Map<string, number>();
  private readonly entitlementKeys: string[] = [];

  /** Folds one event of `access-{identityId}` into the index. */
  apply(identityId: string, event: AccessEvent): void {
    switch (event.type) {
      case 'AccessGranted': {
        const access = this.entry(identityId);
        const d = event.data;
        const previous = access.grants.length > 0 ? access.grants[access.grants.length - 1] : undefined;
        let entitlementId = this.entitlementIds.get(d.entitlement);
        if (entitlementId === undefined) {
          entitlementId = this.entitlementKeys.push(d.entitlement) - 1;
          this.entitlementIds.set(d.entitlement, entitlementId);
        }
        const entitlement = this.entitlementKeys[entitlementId];
        access.grants.push(
          new HeldGrant(
            d.grantId,
            entitlement,
            this.intern(d.source) as GrantSource,
            d.role === undefined ? undefined : this.intern(d.role),
            d.ruleKey === undefined ? undefined : this.intern(d.ruleKey),
            d.requestId === undefined ? undefined : same(previous?.requestId, d.requestId),
            same(previous?.grantedAt, d.grantedAt),
            d.expiresAt === undefined ? undefined : same(previous?.expiresAt, d.expiresAt),
            // Birthright reasons are lifecycle steps (`joiner`, `mover`): few, worth sharing.
            d.source === 'birthright' ? this.intern(d.reason) : same(previous?.reason, d.reason),
          ),
        );
        access.entitlements.push(entitlementId);
        access.ends.push(d.expiresAt === undefined ? Infinity : endOf(d.expiresAt));
        return;
      }
      case 'AccessRevoked': {
        const access = this.identities.get(identityId);
        if (!access) return;
        const { grantId } = event.data;
        if (!access.grants.some((g) => g.grantId === grantId)) return;
        const keep = access.grants.map((g) => g.grantId !== grantId);
        access.grants = access.grants.filter((_, i) => keep[i]);
        access.entitlements = access.entitlements.filter((_, i) => keep[i]);
        access.ends = access.ends.filter((_, i) => keep[i]);
        return;
      }
      case 'AccessExtended': {
        const access = this.identities.get(identityId);
        if (!access) return;
        const i = access.grants.findIndex((g) => g.grantId === event.data.grantId);
        if (i < 0) return;
        const g = access.grants[i];
        access.grants[i] = new HeldGrant(g.grantId, g.entitlement, g.source, g.role, g.ruleKey, g.requestId, g.grantedAt, event.data.expiresAt, g.reason);
        access.ends[i] = endOf(event.data.expiresAt);
        return;
      }
      case 'AccessTerminated':
        this.entry(identityId).terminatedAt = event.data.at;
        return;
      case 'AccessReinstated': {
        const access = this.identities.get(identityId);
        if (access) access.terminatedAt = undefined;
        return;
      }
      case 'MoverReviewFlagged':
      case 'SodExceptionRecorded':
        // Ledger entries for the command side and SoD reports (read from the stream): no check depends on them.
        return;
      default:
        // An event type this version does not know (a newer writer): nothing a check depends on.
        return;
    }
  }

  /**
   * The decision for one identity and entitlement at `at` (epoch ms): the same answer as
   * `checkAccess` over the decider's state. A terminated identity is denied everything; a grant
   * allows until its `expiresAt` (exclusive), whether or not its expiry job has run yet.
   */
  check(identityId: string, entitlement: string, at: number): AccessCheck {
    const access = this.identities.get(identityId);
    if (access === undefined) return { allowed: false, reason: 'not-granted', grantIds: [] };
    if (access.terminatedAt !== undefined) return { allowed: false, reason: 'terminated', grantIds: [] };
    const wanted = this.entitlementIds.get(entitlement);
    if (wanted === undefined) return { allowed: false, reason: 'not-granted', grantIds: [] };
    const { entitlements, ends } = access;
    let held = false;
    let grantIds: string[] | undefined;
    let open = false;
    let latest = -1;
    for (let i = 0; i < entitlements.length; i++) {
      if (entitlements[i] !== wanted) continue;
      held = true;
      const end = ends[i];
      if (end <= at) continue;
      const grantId = access.grants[i].grantId;
      if (grantIds === undefined) grantIds = [grantId];
      else grantIds.push(grantId);
      if (end === Infinity) open = true;
      // Ties keep the first, as checkAccess does.
      else if (latest < 0 || end > ends[latest]) latest = i;
    }
    if (grantIds === undefined) return { allowed: false, reason: held ? 'expired' : 'not-granted', grantIds: [] };
    if (open || latest < 0) return { allowed: true, reason: 'granted', grantIds };
    return { allowed: true, reason: 'granted', grantIds, expiresAt: access.grants[latest].expiresAt };
  }

  /** The identity's stage and grants held now, or undefined when no access event names it. */
  of(identityId: string): AccessSummary | undefined {
    const access = this.identities.get(identityId);
    if (access === undefined) return undefined;
    const grants: Grant[] = access.grants.map(toGrant);
    return access.terminatedAt === undefined ? { status: 'active', grants } : { status: 'terminated', terminatedAt: access.terminatedAt, grants };
  }

  /** Identities with at least one access event. */
  get size(): number {
    return this.identities.size;
  }

  /** Grants held now, over all identities. */
  grantCount(): number {
    let count = 0;
    for (const access of this.identities.values()) count += access.grants.length;
    return count;
  }

  private entry(identityId: string): IdentityAccess {
    let access = this.identities.get(identityId);
    if (access === undefined) {
      access = new IdentityAccess();
      this.identities.set(identityId, access);
    }
    return access;
  }

  private intern(value: string): string {
    const known = this.interned.get(value);
    if (known !== undefined) return known;
    this.interned.set(value, value);
    return value;
  }
}

/** The earlier copy when equal: one string kept instead of two. */
function same(previous: string | undefined, value: string): string {
  return previous === value ? previous : value;
}

/**
 * `expiresAt` as epoch ms. The decider only stores valid RFC 3339 times; should one not parse,
 * the grant is treated as already ended (-Infinity): a check fails closed rather than allowing forever.
 */
function endOf(expiresAt: string): number {
  const ms = Date.parse(expiresAt);
  return Number.isNaN(ms) ? -Infinity : ms;
}

/** A plain Grant as the event carried it: absent optional fields are left out. */
function toGrant(g: HeldGrant): Grant {
  const grant: Grant = { grantId: g.grantId, entitlement: g.entitlement, source: g.source, grantedAt: g.grantedAt, reason: g.reason };
  if (g.role !== undefined) grant.role = g.role;
  if (g.ruleKey !== undefined) grant.ruleKey = g.ruleKey;
  if (g.requestId !== undefined) grant.requestId = g.requestId;
  if (g.expiresAt !== undefined) grant.expiresAt = g.expiresAt;
  return grant;
}
