import { DomainError } from '@custos/platform/domain';

export class SessionNotFound extends DomainError {
  static readonly code = 'session-not-found';

  constructor(readonly sessionId: string) {
    super(`session ${sessionId} does not exist`);
  }
}

export class SessionAlreadyExists extends DomainError {
  static readonly code = 'session-already-exists';

  constructor(readonly sessionId: string) {
    super(`session ${sessionId} exists already`);
  }
}

export class SessionNotLive extends DomainError {
  static readonly code = 'session-not-live';

  constructor(readonly sessionId: string) {
    super(`session ${sessionId} is not live`);
  }
}

export class StatementsOutOfOrder extends DomainError {
  static readonly code = 'statements-out-of-order';

  constructor(
    readonly sessionId: string,
    readonly expected: number,
    readonly got: number,
  ) {
    super(`session ${sessionId} expected statement ${expected} next, got ${got}`);
  }
}

export class UnknownGatewayTarget extends DomainError {
  static readonly code = 'target-not-served';

  constructor(readonly target: string) {
    super(`the gateway knows no target ${target}`);
  }
}

export class NoAccessToTarget extends DomainError {
  static readonly code = 'no-access-to-target';

  constructor(
    readonly identityId: string,
    readonly target: string,
  ) {
    super(`${identityId} holds no active grant of an entitlement on target ${target}`);
  }
}

export class StepUpRequired extends DomainError {
  static readonly code = 'step-up-required';

  constructor(readonly target: string) {
    super(`a session on ${target} (a privileged entitlement) needs a recent multi-factor login`);
  }
}

export class NotSecurityApprover extends DomainError {
  static readonly code = 'not-security-approver';

  constructor(readonly identityId: string) {
    super(`${identityId} holds no custos:security: only security approvers end or watch others' sessions`);
  }
}

export class SessionNotHere extends DomainError {
  static readonly code = 'session-not-here';

  constructor(
    readonly sessionId: string,
    readonly gatewayId: string,
  ) {
    super(`session ${sessionId} is held by gateway ${gatewayId}, not this one`);
  }
}
