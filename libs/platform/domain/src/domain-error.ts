/**
 * A command broke a domain rule. Every domain error of every context extends this class and
 * names its stable, machine-readable code once, on the class:
 *
 *     export class IdentityNotFound extends DomainError {
 *       static readonly code = 'identity-not-found';
 *       constructor(readonly identityId: string) { super(`identity ${identityId} does not exist`); }
 *     }
 *
 * The domain knows no transport: the HTTP status of each code is declared at the context's edge
 * (its api library registers a `Record<code, status>` with platform/http), which also puts the
 * error's other own fields (`identityId`, `keys`, `conflicts`...) and `details` into the answer.
 */
export abstract class DomainError extends Error {
  /** The code named on the class, on every instance too (`error.code`). */
  readonly code: string;
  /** Data for the answer beyond the error's own fields. */
  declare readonly details?: Readonly<Record<string, unknown>>;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    const code = (new.target as unknown as { code?: unknown }).code;
    if (typeof code !== 'string' || code === '') throw new TypeError(`${new.target.name} names no static code`);
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** A concrete domain error class: its code is readable without an instance. */
export type DomainErrorClass = (abstract new (...args: never[]) => DomainError) & { readonly code: string };

/**
 * domainErrorClasses lists the domain error classes among a module's exports (a domain
 * library's index), so that an edge can check that it maps every code (and a spec, that each
 * names one).
 */
export function domainErrorClasses(exports: Record<string, unknown>): DomainErrorClass[] {
  return Object.values(exports).filter(
    (value): value is DomainErrorClass => typeof value === 'function' && value.prototype instanceof DomainError,
  );
}

/**
 * The codes of the domain error classes among a module's exports, as a type:
 * `DomainErrorCodeOf<typeof import('@custos/identity/domain')>` is `'identity-not-found' | ...`,
 * so that an edge's `Record<code, status>` misses none.
 */
export type DomainErrorCodeOf<Exports> = {
  [Name in keyof Exports]: Exports[Name] extends { readonly code: infer Code extends string; prototype: DomainError } ? Code : never;
}[keyof Exports];

/** One bad field of a command: where, and what is wrong with it. */
export interface FieldError {
  field: string;
  message: string;
}

/**
 * The command is malformed (a missing justification, a duration that is none...), one entry per
 * bad field: the one validation error of every context, which each context's errors module
 * exports with its own so that its edge maps its code like the others.
 */
export class ValidationFailed extends DomainError {
  static readonly code = 'validation-failed';

  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}
