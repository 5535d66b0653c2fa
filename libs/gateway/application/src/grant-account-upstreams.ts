import { UnknownTarget, type UpstreamEndpoint, type UpstreamResolver } from './ports';

/**
 * GrantAccounts is what the gateway needs of the privileged context (issue 16) to log in with the
 * session's own grant instead of a shared account: a registered target's address, and a login on
 * the just-in-time account of one of the session's grants. The privileged context has the pieces
 * (TargetService.access, JitAccounts.state, Connector.rotatePassword) but no operation that hands
 * the gateway a login yet: its JIT password is delivered once to the beneficiary and then
 * forgotten by the vault. The intended implementation sets a fresh random password on the grant's
 * account for each session (so the gateway alone knows it, and the account still ends with the
 * grant: VALID UNTIL, NOLOGIN, pg_terminate_backend, DROP), or checks a vault account out on the
 * grant.
 */
export interface GrantAccounts {
  /** A registered target's address, or undefined. */
  target(key: string): Promise<Omit<UpstreamEndpoint, 'user' | 'password'> | undefined>;
  /** A login on the account of one of these grants on the target, or undefined when none has a ready account. */
  sessionLogin(target: string, grantIds: string[]): Promise<{ user: string; password: string } | undefined>;
}

/**
 * GrantAccountUpstreams resolves a session's upstream through the privileged context's grant
 * accounts, and a target it does not register through `fallback` (targets given by URL), so the
 * two can run side by side while targets move over.
 */
export class GrantAccountUpstreams implements UpstreamResolver {
  constructor(
    private readonly accounts: GrantAccounts,
    private readonly fallback?: UpstreamResolver,
  ) {}

  async knows(target: string): Promise<boolean> {
    return (await this.accounts.target(target)) !== undefined || ((await this.fallback?.knows(target)) ?? false);
  }

  async resolve(request: { identityId: string; target: string; grantIds: string[] }): Promise<UpstreamEndpoint> {
    const address = await this.accounts.target(request.target);
    if (!address) {
      if (this.fallback) return this.fallback.resolve(request);
      throw new UnknownTarget(request.target);
    }
    const login = await this.accounts.sessionLogin(request.target, request.grantIds);
    if (!login) throw new NoGrantAccount(request.target, request.grantIds);
    return { ...address, ...login };
  }
}

/** None of the session's grants has an account on the target yet (it is being made): the connection is refused as the target unavailable. */
export class NoGrantAccount extends Error {
  constructor(
    readonly target: string,
    readonly grantIds: string[],
  ) {
    super(`no account of grants ${grantIds.join(', ')} on ${target} is ready`);
  }
}
