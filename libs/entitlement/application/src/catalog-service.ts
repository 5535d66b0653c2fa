import {
  birthrightRuleStreamId,
  BirthrightWhen,
  entitlementStreamId,
  roleStreamId,
  sodPolicyStreamId,
  ApprovalPolicy,
  Risk,
  SodMode,
  SodSeverity,
} from '@custos/entitlement/contracts';
import { birthrightRuleDecider, entitlementDecider, roleDecider, sodPolicyDecider } from '@custos/entitlement/domain';
import type { ContextRuntime } from '@custos/platform/runtime';
import { CommandMeta, handleCommand } from './aggregate';
import type { CatalogView } from './catalog-view';

export interface EntitlementInput {
  key: string;
  application: string;
  name: string;
  description?: string;
  privileged: boolean;
  risk: Risk;
  ownerId?: string;
  maxDuration?: string;
  breakGlass?: boolean;
  approvalPolicy?: ApprovalPolicy;
}

/**
 * CatalogService defines and changes entitlements, roles, birthright rules and SoD policies.
 * References are checked against the catalog view caught up with this store, so a key defined a
 * moment ago by this service is known.
 */
export class CatalogService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly catalog: CatalogView,
  ) {}

  async defineEntitlement(input: EntitlementInput, meta: CommandMeta) {
    const result = await handleCommand(this.runtime.store, entitlementStreamId(input.key), entitlementDecider, { type: 'DefineEntitlement', data: { ...input, now: this.now(), actor: meta.actor } }, meta);
    await this.catalog.catchUp();
    return result;
  }

  async defineRole(input: { key: string; name: string; entitlements: string[]; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const known = { entitlements: this.catalog.activeEntitlementKeys(), roles: this.catalog.roleGraph() };
    const result = await handleCommand(this.runtime.store, roleStreamId(input.key), roleDecider, { type: 'DefineRole', data: { ...input, known, now: this.now(), actor: meta.actor } }, meta);
    await this.catalog.catchUp();
    return result;
  }

  async changeRole(input: { key: string; name: string; entitlements: string[]; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const known = { entitlements: this.catalog.activeEntitlementKeys(), roles: this.catalog.roleGraph() };
    const result = await handleCommand(this.runtime.store, roleStreamId(input.key), roleDecider, { type: 'ChangeRole', data: { ...input, known, now: this.now(), actor: meta.actor } }, meta);
    await this.catalog.catchUp();
    return result;
  }

  async defineBirthrightRule(input: { key: string; name: string; when: BirthrightWhen; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const knownRoles = Object.keys(this.catalog.roleCatalog());
    const result = await handleCommand(this.runtime.store, birthrightRuleStreamId(input.key), birthrightRuleDecider, { type: 'DefineBirthrightRule', data: { ...input, knownRoles, now: this.now(), actor: meta.actor } }, meta);
    await this.catalog.catchUp();
    return result;
  }

  async changeBirthrightRule(input: { key: string; name: string; when: BirthrightWhen; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const knownRoles = Object.keys(this.catalog.roleCatalog());
    const result = await handleCommand(this.runtime.store, birthrightRuleStreamId(input.key), birthrightRuleDecider, { type: 'ChangeBirthrightRule', data: { ...input, knownRoles, now: this.now(), actor: meta.actor } }, meta);
    await this.catalog.catchUp();
    return result;
  }

  async defineSodPolicy(input: { key: string; name: string; conflicting: [string[], string[]]; mode?: SodMode; severity?: SodSeverity }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const result = await handleCommand(
      this.runtime.store,
      sodPolicyStreamId(input.key),
      sodPolicyDecider,
      { type: 'DefineSodPolicy', data: { ...input, knownEntitlements: this.catalog.activeEntitlementKeys(), now: this.now(), actor: meta.actor } },
      meta,
    );
    await this.catalog.catchUp();
    return result;
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
