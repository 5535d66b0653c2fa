import {
  BirthrightRuleDefinition,
  EntitlementDefinition,
  ENTITLEMENT_STREAM_PREFIXES,
  EntitlementContextEvent,
  RoleDefinition,
  SodPolicyDefinition,
} from '@custos/entitlement/contracts';
import {
  BirthrightRuleState,
  birthrightRuleDecider,
  BirthrightRuleView,
  EntitlementState,
  entitlementDecider,
  RoleCatalog,
  roleDecider,
  RoleState,
  sodPolicyDecider,
  SodPolicyState,
  SodPolicyView,
} from '@custos/entitlement/domain';
import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import { InMemoryView } from '@custos/platform/runtime';

/**
 * The catalog as the entitlement context's handlers need it, in memory: every entitlement, role,
 * birthright rule and SoD policy, folded with the aggregates' own `evolve` from the store.
 */
export class CatalogView {
  readonly entitlements = new Map<string, EntitlementState>();
  readonly roles = new Map<string, RoleState>();
  readonly rules = new Map<string, BirthrightRuleState>();
  readonly sodPolicies = new Map<string, SodPolicyState>();
  private readonly view: InMemoryView;

  private readonly listeners: Array<(event: CustosEvent) => void> = [];

  constructor(store: EventStore, onError: (error: unknown) => void) {
    this.view = new InMemoryView(store, (event) => this.apply(event), { onError });
  }

  /** Calls `listener` with each catalog event after the view has applied it. */
  onApplied(listener: (event: CustosEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): Promise<void> {
    return this.view.start();
  }

  /** Read-your-writes: resolves once every catalog change committed before the call is applied. */
  catchUp(): Promise<void> {
    return this.view.catchUp();
  }

  stop(): Promise<void> {
    return this.view.stop();
  }

  private apply(stored: CustosEvent): void {
    const event = { type: stored.name, data: stored.data } as EntitlementContextEvent;
    const fold = <S, E>(map: Map<string, S>, prefix: string, decider: { initialState: () => S; evolve: (s: S, e: E) => S }) => {
      const key = stored.subject.slice(prefix.length);
      map.set(key, decider.evolve(map.get(key) ?? decider.initialState(), event as E));
    };
    const p = ENTITLEMENT_STREAM_PREFIXES;
    // Order matters: `birthright-rule-` must be tested before any shorter prefix it could share.
    if (stored.subject.startsWith(p.birthrightRule)) fold(this.rules, p.birthrightRule, birthrightRuleDecider);
    else if (stored.subject.startsWith(p.sodPolicy)) fold(this.sodPolicies, p.sodPolicy, sodPolicyDecider);
    else if (stored.subject.startsWith(p.role)) fold(this.roles, p.role, roleDecider);
    else if (stored.subject.startsWith(p.entitlement)) fold(this.entitlements, p.entitlement, entitlementDecider);
    else return;
    for (const listener of this.listeners) listener(stored);
  }

  entitlement(key: string): EntitlementDefinition | undefined {
    const state = this.entitlements.get(key);
    return state && state.kind === 'ActiveEntitlement' ? state.definition : undefined;
  }

  activeEntitlementKeys(): Set<string> {
    return new Set([...this.entitlements].filter(([, s]) => s.kind === 'ActiveEntitlement').map(([k]) => k));
  }

  role(key: string): RoleDefinition | undefined {
    const state = this.roles.get(key);
    return state && state.kind === 'ActiveRole' ? state.definition : undefined;
  }

  /** Each active role's entitlements and child roles; a retired entitlement is no longer given by any role. */
  roleCatalog(): RoleCatalog {
    const active = this.activeEntitlementKeys();
    const catalog: Record<string, { entitlements: readonly string[]; roles: readonly string[] }> = {};
    for (const [key, state] of this.roles) {
      if (state.kind !== 'ActiveRole') continue;
      catalog[key] = { entitlements: state.definition.entitlements.filter((entitlement) => active.has(entitlement)), roles: state.definition.roles };
    }
    return catalog;
  }

  /** Each role's child role keys, as role commands take them for cycle detection. */
  roleGraph(): Record<string, readonly string[]> {
    return Object.fromEntries(Object.entries(this.roleCatalog()).map(([key, role]) => [key, role.roles]));
  }

  rule(key: string): BirthrightRuleDefinition | undefined {
    const state = this.rules.get(key);
    return state && state.kind === 'ActiveBirthrightRule' ? state.definition : undefined;
  }

  ruleViews(): BirthrightRuleView[] {
    return [...this.rules.values()].filter((s) => s.kind === 'ActiveBirthrightRule').map((s) => (s as { definition: BirthrightRuleDefinition }).definition);
  }

  sodPolicy(key: string): SodPolicyDefinition | undefined {
    const state = this.sodPolicies.get(key);
    return state && state.kind === 'ActiveSodPolicy' ? state.definition : undefined;
  }

  sodPolicyViews(): SodPolicyView[] {
    return [...this.sodPolicies.values()].filter((s) => s.kind === 'ActiveSodPolicy').map((s) => (s as { definition: SodPolicyDefinition }).definition);
  }
}
