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
