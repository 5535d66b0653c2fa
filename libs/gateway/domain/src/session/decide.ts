import type { RecordedStatement, SessionEvent } from '@custos/gateway/contracts';
import { SessionAlreadyExists, SessionNotFound, SessionNotLive, StatementsOutOfOrder } from '../errors';
import type { EndSession, MarkSessionIncomplete, RecordStatements, RefuseSession, SessionCommand, StartSession } from './commands';
import type { SessionState } from './state';

/** decide: what a command does to a session's recording. */
export function decide(command: SessionCommand, state: SessionState): SessionEvent[] {
  switch (command.type) {
    case 'StartSession':
      return start(command, state);
    case 'RecordStatements':
      return record(command, state);
    case 'EndSession':
      return end(command, state);
    case 'MarkSessionIncomplete':
      return markIncomplete(command, state);
    case 'RefuseSession':
      return refuse(command, state);
    default: {
      const never: never = command;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

/** A session starts once; its id is never reused. */
function start(command: StartSession, state: SessionState): SessionEvent[] {
  if (state.kind !== 'none') throw new SessionAlreadyExists(command.data.sessionId);
  return [{ type: 'SessionStarted', data: command.data }];
}

/**
 * Statements are recorded only while the session is live, in the order they ran, without gaps:
 * a batch delivered again (a retried append) records only what is new.
 */
function record(command: RecordStatements, state: SessionState): SessionEvent[] {
  const { sessionId } = command.data;
  if (state.kind === 'none' || state.kind === 'refused') throw new SessionNotFound(sessionId);
  const fresh = command.data.statements.filter((s) => s.seq > state.statements);
  if (fresh.length === 0) return [];
  if (state.kind === 'ended') throw new SessionNotLive(sessionId);
  checkContiguous(sessionId, state.statements, fresh);
  return [{ type: 'StatementsRecorded', data: { sessionId, identityId: state.identityId, statements: fresh } }];
}

function checkContiguous(sessionId: string, recorded: number, statements: RecordedStatement[]): void {
  statements.forEach((s, i) => {
    if (s.seq !== recorded + 1 + i) throw new StatementsOutOfOrder(sessionId, recorded + 1 + i, s.seq);
  });
}

/** A live session ends once, with its reason; ending an ended session changes nothing. */
function end(command: EndSession, state: SessionState): SessionEvent[] {
  const { sessionId, reason, endedBy, detail, now } = command.data;
  if (state.kind === 'none' || state.kind === 'refused') throw new SessionNotFound(sessionId);
  if (state.kind === 'ended') return [];
  return [{ type: 'SessionEnded', data: { sessionId, identityId: state.identityId, reason, endedBy, ...(detail === undefined ? {} : { detail }), statements: state.statements, endedAt: now } }];
}

/**
 * A session left live by a gateway that stopped without ending it is marked incomplete, by that
 * gateway only (another gateway may hold its own sessions open); an ended session is left alone.
 */
function markIncomplete(command: MarkSessionIncomplete, state: SessionState): SessionEvent[] {
  const { sessionId, gatewayId, now } = command.data;
  if (state.kind === 'none' || state.kind === 'refused') throw new SessionNotFound(sessionId);
  if (state.kind === 'ended' || state.gatewayId !== gatewayId) return [];
  return [{ type: 'SessionMarkedIncomplete', data: { sessionId, identityId: state.identityId, gatewayId, statements: state.statements, markedAt: now } }];
}

/** A refused connection is recorded once, under an id of its own. */
function refuse(command: RefuseSession, state: SessionState): SessionEvent[] {
  if (state.kind !== 'none') throw new SessionAlreadyExists(command.data.sessionId);
  const { now, ...rest } = command.data;
  return [{ type: 'SessionRefused', data: { ...rest, refusedAt: now } }];
}
