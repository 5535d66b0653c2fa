import type { SqlExecutor } from '@custos/platform/event-store';
import { handleCommand, loadAggregate, type CommandMeta, type ContextRuntime } from '@custos/platform/runtime';
import { targetAdminSecretId, targetStreamId, type TargetKind } from '@custos/privileged/contracts';
import { TargetNotFound, targetDecider } from '@custos/privileged/domain';
import { ConnectorError, type Connector, type TargetAccess } from './connectors/connector';
import type { PrivilegedView, TargetAnswer } from './read-models/privileged-view/privileged-view';
import type { Vault } from './vault/vault';

export interface RegisterTargetInput {
  key: string;
  kind: TargetKind;
  host: string;
  port: number;
  database: string;
  adminCredential: { username: string; password: string };
}

/**
 * TargetService registers managed systems: the connector must reach the target and log in with
 * the admin credential first (its reason is the 422's when not), then the registration and the
 * sealed admin password are written in one transaction. It also gives the other services a
 * target's access (address and admin password from the vault) for their connector calls.
 */
export class TargetService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly vault: Vault,
    private readonly connectors: Readonly<Record<TargetKind, Connector>>,
    private readonly view: PrivilegedView,
  ) {}

  async register(input: RegisterTargetInput, meta: CommandMeta): Promise<TargetAnswer> {
    const connector = Object.hasOwn(this.connectors, input.kind) ? this.connectors[input.kind] : undefined;
    let verified: { ok: true } | { ok: false; reason: string } = { ok: false, reason: `no connector for kind ${String(input.kind)}` };
    // A key registered already is refused before the target is contacted.
    const { state } = await loadAggregate(this.runtime.store, targetStreamId(input.key), targetDecider);
    if (connector && state.kind === 'NoTarget') {
      try {
        await connector.verify({ key: input.key, kind: input.kind, host: input.host, port: input.port, database: input.database, adminUsername: input.adminCredential.username, adminPassword: input.adminCredential.password });
        verified = { ok: true };
      } catch (error) {
        if (!(error instanceof ConnectorError)) throw error;
        verified = { ok: false, reason: withoutSecret(error.reason, input.adminCredential.password) };
      }
    }
    await this.runtime.db.transaction(async (tx) => {
      const { events } = await handleCommand(
        this.runtime.store,
        targetStreamId(input.key),
        targetDecider,
        {
          type: 'RegisterTarget',
          data: { key: input.key, kind: input.kind, host: input.host, port: input.port, database: input.database, adminUsername: input.adminCredential.username, verified, now: this.now(), actor: meta.actor },
        },
        meta,
        tx,
      );
      if (events.length > 0) await this.vault.put(tx, targetAdminSecretId(input.key), 1, input.adminCredential.password);
    });
    await this.view.caughtUp();
    return (await this.view.targets()).find((t) => t.key === input.key)!;
  }

  list(): Promise<TargetAnswer[]> {
    return this.view.targets();
  }

  /** A registered target's address and admin credential (from the vault), for a connector call. */
  async access(key: string, tx?: SqlExecutor): Promise<{ access: TargetAccess; connector: Connector }> {
    const { state } = await loadAggregate(this.runtime.store, targetStreamId(key), targetDecider, tx);
    if (state.kind === 'NoTarget') throw new TargetNotFound(key);
    const adminPassword = await this.vault.reveal(targetAdminSecretId(key), 1, tx);
    return { access: { ...state.definition, adminPassword }, connector: this.connectors[state.definition.kind] };
  }

  /** Whether a target is registered. */
  async exists(key: string, tx?: SqlExecutor): Promise<boolean> {
    return (await loadAggregate(this.runtime.store, targetStreamId(key), targetDecider, tx)).state.kind === 'RegisteredTarget';
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

/** A target's reason with a secret cut out, should a driver ever repeat it. */
export function withoutSecret(reason: string, secret: string): string {
  return secret.length === 0 ? reason : reason.split(secret).join('***');
}
