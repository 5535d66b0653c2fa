import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamicModule, Module, type InjectionToken } from '@nestjs/common';
import { Counter, register } from 'prom-client';
import { CONTEXT_RUNTIME, ContextLifecycle, type ContextRuntime } from '@custos/platform/runtime';
import {
  createPrivilegedContext,
  FileKeyEncryptionKey,
  JitAccounts,
  PostgresConnector,
  TargetService,
  VaultService,
  type KeyEncryptionKey,
  type PrivilegedContext,
} from '@custos/privileged/application';
import { CredentialsController } from './credentials.controller';
import { PrivilegedEventsController } from './events.controller';
import { TargetsController } from './targets.controller';
import { VaultController } from './vault.controller';

export interface PrivilegedSettings {
  /** The vault's key-encryption key; default: CUSTOS_VAULT_KEK_FILE, or (`generateIn`) a key file made there on first start. */
  kek?: KeyEncryptionKey;
  /** A directory to keep a generated key file in when CUSTOS_VAULT_KEK_FILE is not set (the all-in-one's data directory). */
  generateIn?: string;
}

/** DI token of the context's parts, built once per module. */
const PRIVILEGED_PARTS = Symbol('PRIVILEGED_PARTS');

/** The rotation-failure counter: one series, shared by every module instance of the process. */
function rotationFailures(): Counter {
  const name = 'custos_vault_rotation_failures_total';
  return (register.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help: 'Vault password rotations that failed on the target (each is retried with backoff)' });
}

/**
 * readVaultKek: the key-encryption key from CUSTOS_VAULT_KEK_FILE; without it, a key file under
 * `generateIn` (made 0600 on first start, with a warning), or an error saying what to set.
 */
export function readVaultKek(env: NodeJS.ProcessEnv, generateIn?: string, warn: (message: string) => void = () => undefined): KeyEncryptionKey {
  const file = env.CUSTOS_VAULT_KEK_FILE;
  if (file) return FileKeyEncryptionKey.fromFile(file);
  if (!generateIn) throw new Error('the privileged context needs CUSTOS_VAULT_KEK_FILE: a file with "<id> <base64 of 32 random bytes>" (e.g. echo "k1 $(openssl rand -base64 32)" > vault.kek; chmod 600 vault.kek)');
  const generated = join(generateIn, 'vault.kek');
  if (!existsSync(generated)) {
    mkdirSync(generateIn, { recursive: true });
    FileKeyEncryptionKey.generateFile(generated);
    warn(`CUSTOS_VAULT_KEK_FILE is not set: made a vault key-encryption key in ${generated}; keep it (and back it up) apart from the database`);
  }
  return FileKeyEncryptionKey.fromFile(generated);
}

/**
 * The privileged context: targets (/targets), the vault's shared accounts with check-out,
 * check-in and rotation (/vault/accounts), and just-in-time database accounts made and dropped
 * with their grants (/access/{identityId}/credentials/{grantId}), fed by the entitlement
 * context's events.
 */
@Module({})
export class PrivilegedModule {
  static forRuntime(runtime: ContextRuntime, settings: PrivilegedSettings = {}): DynamicModule {
    // Built when Nest first asks for it (never in the OpenAPI preview, which instantiates nothing): the KEK is read then.
    const build = (): { context: PrivilegedContext; connector: PostgresConnector } => {
      const kek = settings.kek ?? readVaultKek(process.env, settings.generateIn, (message) => runtime.logger.warn(message));
      const failures = rotationFailures();
      const connector = new PostgresConnector();
      return { context: createPrivilegedContext(runtime, { kek, connectors: { postgresql: connector }, onRotationFailed: () => failures.inc() }), connector };
    };
    const part = <T>(provide: InjectionToken, pick: (context: PrivilegedContext) => T) => ({ provide, useFactory: (built: ReturnType<typeof build>) => pick(built.context), inject: [PRIVILEGED_PARTS] });
    return {
      module: PrivilegedModule,
      // PrivilegedEventsController holds message handlers, served over the bus (BusTransport).
      controllers: [TargetsController, VaultController, CredentialsController, PrivilegedEventsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: PRIVILEGED_PARTS, useFactory: build },
        part(TargetService, (c) => c.targets),
        part(VaultService, (c) => c.vaultAccounts),
        part(JitAccounts, (c) => c.jit),
        {
          provide: ContextLifecycle,
          useFactory: ({ context, connector }: ReturnType<typeof build>) =>
            new ContextLifecycle(runtime, [context.inbox, context.vault, context.links, context.view, context.scheduler], {
              start: () => context.workers.start(),
              stop: async () => {
                await context.workers.stop();
                await connector.close();
              },
            }),
          inject: [PRIVILEGED_PARTS],
        },
      ],
    };
  }
}
