import { CHECK_RPC, type CheckRequest, type CheckResult } from '@custos/entitlement/contracts';
import type { MessageBus } from '@custos/platform/messaging';
import type { AccessToTarget, TargetAccess } from './ports';
import type { TargetLinks } from './read-models/target-links/target-links';

/**
 * EntitlementAccess answers AccessToTarget with the entitlement context's check
 * (`rpc.entitlement.check`, in process in the all-in-one): the identity may reach a target while
 * it holds any live entitlement linked to it.
 */
export class EntitlementAccess implements AccessToTarget {
  constructor(
    private readonly bus: MessageBus,
    private readonly links: TargetLinks,
  ) {}

  async check(identityId: string, target: string): Promise<TargetAccess> {
    const linked = await this.links.linkedTo(target);
    const results = await Promise.all(
      linked.map(async (link) => ({ link, result: await this.bus.request<CheckResult>(CHECK_RPC, { identityId, entitlement: link.entitlement } satisfies CheckRequest) })),
    );
    const allowing = results.filter((r) => r.result.allowed);
    const grantIds = [...new Set(allowing.flatMap((r) => r.result.grantIds))].sort();
    const ends = allowing.map((r) => r.result.expiresAt);
    return {
      allowed: allowing.length > 0,
      grantIds,
      entitlements: allowing.map((r) => r.link.entitlement),
      requestIds: await this.links.requestsOf(grantIds),
      // Access ends when the last allowing grant does; one without an end keeps it open.
      expiresAt: ends.length === 0 || ends.some((e) => e === undefined) ? undefined : ends.sort().at(-1),
      privileged: allowing.some((r) => r.link.privileged),
    };
  }
}
