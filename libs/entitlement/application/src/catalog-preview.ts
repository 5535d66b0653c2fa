import type { BirthrightRuleDefinition, BirthrightWhen, RoleDefinition } from '@custos/entitlement/contracts';
import {
  AccessPreview,
  birthrightRuleDecider,
  BirthrightRuleView,
  NotDefined,
  IdentityProfile as PreviewIdentity,
  previewBirthrightChange,
  previewRoleChange,
  roleDecider,
} from '@custos/entitlement/domain';
import type { CatalogView } from './read-models/catalog/catalog-view';
import type { IdentityProfiles } from './read-models/identity-profiles/identity-profiles';
import { CommandMeta } from '@custos/platform/runtime';

export interface RuleProposal {
  key: string;
  name: string;
  when: BirthrightWhen;
  roles: string[];
}

export interface RoleProposal {
  key: string;
  name: string;
  entitlements: string[];
  roles: string[];
}

/**
 * CatalogPreview answers "what would this change do?" before a role or birthright rule changes:
 * the proposal is decided by the aggregate's own `decide` (so it is refused exactly as the write
 * would be) against the current catalog, and nothing is appended. Only a defined key is
 * previewed (404 otherwise): a preview answers what a PUT would do.
 */
export class CatalogPreview {
  constructor(
    private readonly catalog: CatalogView,
    private readonly profiles: IdentityProfiles,
    private readonly clock: () => Date,
  ) {}

  /** Who would gain and lose which birthright grants if the rule `proposal.key` read as `proposal`. */
  async birthrightRule(proposal: RuleProposal, meta: CommandMeta): Promise<AccessPreview[]> {
    await this.catalog.catchUp();
    const state = this.catalog.rules.get(proposal.key);
    if (state === undefined || state.kind === 'NoBirthrightRule') throw new NotDefined('birthright-rule', proposal.key);
    const data = { ...proposal, knownRoles: Object.keys(this.catalog.roleCatalog()), now: this.now(), actor: meta.actor };
    const events = birthrightRuleDecider.decide({ type: 'ChangeBirthrightRule', data }, state);
    if (events.length === 0) return [];
    const proposed: BirthrightRuleDefinition = events[0].data;
    const before = this.catalog.ruleViews();
    const after: BirthrightRuleView[] = [...before.filter((rule) => rule.key !== proposal.key), proposed];
    const roles = this.catalog.roleCatalog();
    return this.overActiveIdentities((identities) => previewBirthrightChange(identities, before, after, roles));
  }

  /** Who would gain and lose which birthright grants if the role `proposal.key` read as `proposal`. */
  async role(proposal: RoleProposal, meta: CommandMeta): Promise<AccessPreview[]> {
    await this.catalog.catchUp();
    const state = this.catalog.roles.get(proposal.key);
    if (state === undefined || state.kind === 'NoRole') throw new NotDefined('role', proposal.key);
    const known = { entitlements: this.catalog.activeEntitlementKeys(), roles: this.catalog.roleGraph() };
    const data = { ...proposal, known, now: this.now(), actor: meta.actor };
    const events = roleDecider.decide({ type: 'ChangeRole', data }, state);
    if (events.length === 0) return [];
    const proposed: RoleDefinition = events[0].data;
    const rolesBefore = this.catalog.roleCatalog();
    const rolesAfter = { ...rolesBefore, [proposed.key]: { entitlements: proposed.entitlements, roles: proposed.roles } };
    const rules = this.catalog.ruleViews();
    return this.overActiveIdentities((identities) => previewRoleChange(identities, rules, rolesBefore, rolesAfter));
  }

  private async overActiveIdentities(preview: (identities: PreviewIdentity[]) => AccessPreview[]): Promise<AccessPreview[]> {
    const items: AccessPreview[] = [];
    for await (const page of this.profiles.active()) items.push(...preview(page));
    return items;
  }

  private now(): string {
    return this.clock().toISOString();
  }
}
