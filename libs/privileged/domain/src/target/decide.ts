import { TARGET_KINDS, type TargetEvent } from '@custos/privileged/contracts';
import { TargetAlreadyRegistered, TargetNotFound, TargetUnreachable, ValidationFailed, type FieldError } from '../errors';
import { blank } from '../shared/time';
import type { RegisterTarget, TargetCommand } from './commands';
import type { TargetState } from './state';

/** decide: a key is registered once, and only a target its connector reached. */
export function decide(command: TargetCommand, state: TargetState): TargetEvent[] {
  switch (command.type) {
    case 'RegisterTarget':
      return register(command, state);
    case 'RecordUnexplainedAccountDropped':
      if (state.kind === 'NoTarget') throw new TargetNotFound(command.data.key);
      return [{ type: 'UnexplainedAccountDropped', data: { key: command.data.key, username: command.data.username, sessionsTerminated: command.data.sessionsTerminated, droppedAt: command.data.now } }];
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

/** register: a kind Custos has a connector for, an address, and an admin credential that worked just now. */
function register({ data }: RegisterTarget, state: TargetState): TargetEvent[] {
  if (state.kind !== 'NoTarget') throw new TargetAlreadyRegistered(data.key);
  const errors: FieldError[] = [];
  for (const field of ['key', 'host', 'database', 'adminUsername'] as const) if (blank(data[field])) errors.push({ field, message: 'is required' });
  if (!(TARGET_KINDS as readonly string[]).includes(data.kind)) errors.push({ field: 'kind', message: `must be one of ${TARGET_KINDS.join(', ')}` });
  if (!Number.isInteger(data.port) || data.port < 1 || data.port > 65535) errors.push({ field: 'port', message: 'must be a port number, 1-65535' });
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (!data.verified.ok) throw new TargetUnreachable(data.key, data.verified.reason);
  return [
    {
      type: 'TargetRegistered',
      data: {
        key: data.key,
        kind: data.kind,
        host: data.host,
        port: data.port,
        database: data.database,
        adminUsername: data.adminUsername,
        registeredAt: data.now,
        registeredBy: data.actor,
      },
    },
  ];
}
