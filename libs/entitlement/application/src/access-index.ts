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
 * One grant held now. A class, so that every entry shares one hidden class with its fields in
 * the object; optional fields are present as `undefined`. `endsAt` is `expiresAt` as epoch
 * milliseconds, parsed once when the grant is applied (null when the grant has no end; a
 * null rather than Infinity keeps the field tagged, so a grant without an end carries no
 * boxed number).
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
    readonly endsAt: number | null,
  ) {}
}

class IdentityAccess {
  terminatedAt: string | undefined = undefined;
  grants: HeldGrant[] = [];
}

/**
 * AccessIndex is the check API's read model: who holds which entitlement until when, folded from
 * the access stream events with the same rules as the access decider's `evolve` (grants added
 * and removed by id, termination and reinstatement switch the stage) and answering exactly as
 * `checkAccess` does, but without the decider's retry ledger (issued grant ids, fulfilled
 * requests, flagged moves), which only the command side needs and which it reads from the
 * stream itself.
 *
 * Kept lean for a million grants: one small object per grant, with the strings that repeat
 * across identities (entitlement keys, roles, rule keys, sources, lifecycle reasons) shared
 * through an intern table bounded by the catalog, and the ones that repeat within an identity
 * (the grant time, reason and request of one command) shared with the identity's previous grant.
 */
export class AccessIndex {
  private readonly identities = new Map<string, IdentityAccess>();
  /** Catalog-bounded strings only: a free-text justification never enters it. */
  private readonly interned = new Map<string, string>();

  /** Folds one event of `access-{identityId}` into the index. */
  apply(identityId: string, event: AccessEvent): void {
    switch (event.type) {
      case 'AccessGranted': {
        const access = this.entry(identityId);
        const d = event.data;
        const previous = access.grants.length > 0 ? access.grants[access.grants.length - 1] : undefined;
        const endsAt = d.expiresAt === undefined ? null : endOf(d.expiresAt);
        access.grants.push(
          new HeldGrant(
            d.grantId,
            this.intern(d.entitlement),
            this.intern(d.source) as GrantSource,
            d.role === undefined ? undefined : this.intern(d.role),
            d.ruleKey === undefined ? undefined : this.intern(d.ruleKey),
            d.requestId === undefined ? undefined : same(previous?.requestId, d.requestId),
            same(previous?.grantedAt, d.grantedAt),
            d.expiresAt === undefined ? undefined : same(previous?.expiresAt, d.expiresAt),
            // Birthright reasons are lifecycle steps (`joiner`, `mover`): few, worth sharing.
            d.source === 'birthright' ? this.intern(d.reason) : same(previous?.reason, d.reason),
            endsAt,
          ),
        );
        return;
      }
      case 'AccessRevoked': {
        const access = this.identities.get(identityId);
        if (!access) return;
        const { grantId } = event.data;
        if (access.grants.some((g) => g.grantId === grantId)) access.grants = access.grants.filter((g) => g.grantId !== grantId);
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
    let held = false;
    let grantIds: string[] | undefined;
    let open = false;
    let latest: HeldGrant | undefined;
    const grants = access.grants;
    for (let i = 0; i < grants.length; i++) {
      const grant = grants[i];
      if (grant.entitlement !== entitlement) continue;
      held = true;
      const endsAt = grant.endsAt;
      if (endsAt !== null && endsAt <= at) continue;
      if (grantIds === undefined) grantIds = [grant.grantId];
      else grantIds.push(grant.grantId);
      if (endsAt === null) open = true;
      // Ties keep the first, as checkAccess does.
      else if (latest === undefined || endsAt > (latest.endsAt as number)) latest = grant;
    }
    if (grantIds === undefined) return { allowed: false, reason: held ? 'expired' : 'not-granted', grantIds: [] };
    if (open || latest === undefined) return { allowed: true, reason: 'granted', grantIds };
    return { allowed: true, reason: 'granted', grantIds, expiresAt: latest.expiresAt };
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
 * the grant is treated as already ended: a check fails closed rather than allowing forever.
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
