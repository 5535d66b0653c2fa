import { accessStreamId, type Grant, type SodConflict } from '@custos/entitlement/contracts';
import { accessDecider, evaluateSod, grantInForce, SodEvaluation, SodExceptionRecord, sodViolations, UnknownReference } from '@custos/entitlement/domain';
import type { EventStore } from '@custos/platform/event-store';
import type { AccessView } from './read-models/access/access-view';
import type { CatalogView } from './read-models/catalog/catalog-view';
import { loadAggregate } from '@custos/platform/runtime';

/** One violation an identity holds now: the conflict, the grants on its two sides, and the approved exceptions for it. */
export interface HeldSodViolation extends SodConflict {
  grants: Array<Pick<Grant, 'grantId' | 'entitlement' | 'source' | 'role' | 'ruleKey' | 'requestId' | 'expiresAt'>>;
  exceptions: Array<Pick<SodExceptionRecord, 'grantId' | 'entitlement' | 'reason' | 'approvedBy' | 'recordedAt'>>;
}

/**
 * SodQueries answers separation-of-duties questions: what adding entitlements would create for
 * an identity (asked by the request service before routing, answered from the in-memory access
 * view), and which violations an identity holds now, whatever created them (birthright rules
 * included), with the exceptions recorded for them (read from the identity's access stream).
 */
export class SodQueries {
  constructor(
    private readonly store: EventStore,
    private readonly catalog: CatalogView,
    private readonly access: AccessView,
    private readonly clock: () => Date,
  ) {}

  /** The violations that adding `entitlements` to what the identity holds now would create; unknown keys are refused (422). */
  async evaluate(identityId: string, entitlements: readonly string[]): Promise<SodEvaluation> {
    await Promise.all([this.catalog.catchUp(), this.access.catchUp()]);
    const known = this.catalog.activeEntitlementKeys();
    const unknown = [...new Set(entitlements.filter((key) => !known.has(key)))];
    if (unknown.length > 0) throw new UnknownReference([{ kind: 'entitlement', keys: unknown }]);
    const access = this.access.of(identityId);
    const held = access && access.status === 'active' ? inForce(access.grants, this.now()) : [];
    return evaluateSod(
      held.map((grant) => grant.entitlement),
      entitlements,
      this.catalog.sodPolicyViews(),
    );
  }

  /** Every SoD policy the identity violates now, with the grants involved and any approved exceptions; none once terminated. */
  async violations(identityId: string): Promise<HeldSodViolation[]> {
    await this.catalog.catchUp();
    const { state } = await loadAggregate(this.store, accessStreamId(identityId), accessDecider);
    if (state.kind === 'TerminatedAccess') return [];
    const grants = inForce(state.grants, this.now());
    const grantIds = new Set(grants.map((grant) => grant.grantId));
    const exceptions = state.sodExceptions.filter((exception) => grantIds.has(exception.grantId));
    return sodViolations(
      grants.map((grant) => grant.entitlement),
      this.catalog.sodPolicyViews(),
    ).map((violation) => {
      const involved = new Set([...violation.left, ...violation.right]);
      return {
        ...violation,
        grants: grants
          .filter((grant) => involved.has(grant.entitlement))
          .map(({ grantId, entitlement, source, role, ruleKey, requestId, expiresAt }) => ({ grantId, entitlement, source, role, ruleKey, requestId, expiresAt })),
        exceptions: exceptions
          .filter((exception) => exception.conflicts.some((conflict) => conflict.policyKey === violation.policyKey))
          .map(({ grantId, entitlement, reason, approvedBy, recordedAt }) => ({ grantId, entitlement, reason, approvedBy, recordedAt })),
      };
    });
  }

  private now(): string {
    return this.clock().toISOString();
  }
}

function inForce(grants: readonly Grant[], now: string): Grant[] {
  return grants.filter((grant) => grantInForce(grant, now));
}
