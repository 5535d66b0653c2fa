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
import { CommandMeta, handleCommand } from '@custos/platform/runtime';
import type { CatalogView } from './read-models/catalog/catalog-view';

export interface EntitlementInput {
  key: string;
  application: string;
  name: string;
  description?: string;
  privileged: boolean;
  risk: Risk;
  ownerId?: string;
  maxDuration?: string;
  approvalSla?: string;
  breakGlass?: boolean;
  approvalPolicy?: ApprovalPolicy;
  target?: string;
  targetRole?: string;
}

export type EntitlementChangeInput = { key: string } & Partial<{
  name: string;
  description: string | null;
  privileged: boolean;
  risk: Risk;
  ownerId: string | null;
  maxDuration: string | null;
  approvalSla: string | null;
  breakGlass: boolean;
  approvalPolicy: ApprovalPolicy | null;
  target: string | null;
  targetRole: string | null;
}>;

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
    return this.written(await handleCommand(this.runtime.store, entitlementStreamId(input.key), entitlementDecider, { type: 'DefineEntitlement', data: { ...input, now: this.now(), actor: meta.actor } }, meta));
  }

  /** Changes the given fields of an entitlement; omitted fields stay, `null` clears an optional one. */
  async changeEntitlement(input: EntitlementChangeInput, meta: CommandMeta) {
    const streamId = entitlementStreamId(input.key);
    return this.written(await handleCommand(this.runtime.store, streamId, entitlementDecider, { type: 'ChangeEntitlement', data: { ...input, now: this.now(), actor: meta.actor } }, meta));
  }

  /** Retires an entitlement: it can no longer be granted, referenced or changed; its key is never reused. */
  async retireEntitlement(input: { key: string; reason?: string }, meta: CommandMeta) {
    const streamId = entitlementStreamId(input.key);
    return this.written(await handleCommand(this.runtime.store, streamId, entitlementDecider, { type: 'RetireEntitlement', data: { ...input, now: this.now(), actor: meta.actor } }, meta));
  }

  async defineRole(input: { key: string; name: string; entitlements: string[]; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const known = { entitlements: this.catalog.activeEntitlementKeys(), roles: this.catalog.roleGraph() };
    return this.written(await handleCommand(this.runtime.store, roleStreamId(input.key), roleDecider, { type: 'DefineRole', data: { ...input, known, now: this.now(), actor: meta.actor } }, meta));
  }

  async changeRole(input: { key: string; name: string; entitlements: string[]; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const known = { entitlements: this.catalog.activeEntitlementKeys(), roles: this.catalog.roleGraph() };
    return this.written(await handleCommand(this.runtime.store, roleStreamId(input.key), roleDecider, { type: 'ChangeRole', data: { ...input, known, now: this.now(), actor: meta.actor } }, meta));
  }

  async defineBirthrightRule(input: { key: string; name: string; when: BirthrightWhen; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const knownRoles = Object.keys(this.catalog.roleCatalog());
    return this.written(await handleCommand(this.runtime.store, birthrightRuleStreamId(input.key), birthrightRuleDecider, { type: 'DefineBirthrightRule', data: { ...input, knownRoles, now: this.now(), actor: meta.actor } }, meta));
  }

  async changeBirthrightRule(input: { key: string; name: string; when: BirthrightWhen; roles: string[] }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const knownRoles = Object.keys(this.catalog.roleCatalog());
    return this.written(await handleCommand(this.runtime.store, birthrightRuleStreamId(input.key), birthrightRuleDecider, { type: 'ChangeBirthrightRule', data: { ...input, knownRoles, now: this.now(), actor: meta.actor } }, meta));
  }

  async defineSodPolicy(input: { key: string; name: string; conflicting: [string[], string[]]; mode?: SodMode; severity?: SodSeverity }, meta: CommandMeta) {
    await this.catalog.catchUp();
    const command = { type: 'DefineSodPolicy' as const, data: { ...input, knownEntitlements: this.catalog.activeEntitlementKeys(), now: this.now(), actor: meta.actor } };
    return this.written(await handleCommand(this.runtime.store, sodPolicyStreamId(input.key), sodPolicyDecider, command, meta));
  }

  /** Returns once the catalog view shows the write, so this process reads what it just wrote. */
  private async written<R>(result: R): Promise<R> {
    await this.catalog.catchUp();
    return result;
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
