import type { RecordedStatement, SessionEndReason, SessionRefusalReason, SessionStarted } from '@custos/gateway/contracts';

export type StartSession = { type: 'StartSession'; data: SessionStarted['data'] };
export type RecordStatements = { type: 'RecordStatements'; data: { sessionId: string; statements: RecordedStatement[] } };
export type EndSession = { type: 'EndSession'; data: { sessionId: string; reason: SessionEndReason; endedBy: string; detail?: string; now: string } };
export type MarkSessionIncomplete = { type: 'MarkSessionIncomplete'; data: { sessionId: string; gatewayId: string; now: string } };
export type RefuseSession = {
  type: 'RefuseSession';
  data: { sessionId: string; user: string; target: string; reason: SessionRefusalReason; clientAddress: string; now: string };
};

export type SessionCommand = StartSession | RecordStatements | EndSession | MarkSessionIncomplete | RefuseSession;
