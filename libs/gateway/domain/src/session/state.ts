export type NoSession = { kind: 'none' };
export type LiveSession = { kind: 'live'; sessionId: string; identityId: string; target: string; gatewayId: string; statements: number };
export type EndedSession = { kind: 'ended'; sessionId: string; statements: number; incomplete: boolean };
export type RefusedSession = { kind: 'refused'; sessionId: string };

export type SessionState = NoSession | LiveSession | EndedSession | RefusedSession;

export const initialState = (): SessionState => ({ kind: 'none' });
