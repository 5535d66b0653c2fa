import { randomUUID } from 'node:crypto';
import { handleCommand, type CommandMeta, type ContextRuntime } from '@custos/platform/runtime';
import { delegationStreamId } from '@custos/request/contracts';
import { DelegationNotFound, delegationDecider } from '@custos/request/domain';
import { UnknownIdentity } from './errors';
import type { DelegationAnswer, DelegationsView } from './read-models/delegations/delegations-view';
import type { Directory } from './read-models/directory/directory';

export interface GrantDelegationInput {
  /** The approver handing their approvals over: the caller. */
  approverId: string;
  delegateId: string;
  /** RFC 3339; absent: now. */
  from?: string;
  until: string;
}

/**
 * DelegationService runs the delegation aggregate's commands (stream `delegation-{approverId}`):
 * an approver who is away hands their approvals to an active identity for a period, and the
 * approver or the delegate ends it early. The delegations view answers what was decided, once it
 * has caught up with the append (read-your-writes in this process).
 */
export class DelegationService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: Directory,
    private readonly view: DelegationsView,
  ) {}

  async grant(input: GrantDelegationInput, meta: CommandMeta): Promise<DelegationAnswer> {
    const delegate = await this.directory.profile(input.delegateId);
    if (!delegate || delegate.status !== 'active') throw new UnknownIdentity(input.delegateId, delegate?.status);
    const delegationId = randomUUID();
    const now = this.now();
    await this.runtime.db.transaction((tx) =>
      handleCommand(
        this.runtime.store,
        delegationStreamId(input.approverId),
        delegationDecider,
        { type: 'GrantDelegation', data: { delegationId, approverId: input.approverId, delegateId: input.delegateId, from: input.from ?? now, until: input.until, now } },
        { ...meta, correlationId: meta.correlationId ?? delegationId },
        tx,
      ),
    );
    return this.answer(input.approverId, delegationId);
  }

  /** Ends a delegation before its `until`: its approver or its delegate only (a lapsed or ended one is left as is). */
  async end(input: { delegationId: string; endedBy: string }, meta: CommandMeta): Promise<DelegationAnswer> {
    await this.view.caughtUp();
    const known = await this.view.get(input.delegationId, this.runtime.clock());
    if (!known) throw new DelegationNotFound(input.endedBy, input.delegationId);
    await this.runtime.db.transaction((tx) =>
      handleCommand(
        this.runtime.store,
        delegationStreamId(known.approverId),
        delegationDecider,
        { type: 'EndDelegation', data: { approverId: known.approverId, delegationId: input.delegationId, endedBy: input.endedBy, now: this.now() } },
        meta,
        tx,
      ),
    );
    return this.answer(known.approverId, input.delegationId);
  }

  /** The delegations the identity gave or received, newest first. */
  async list(identityId: string): Promise<DelegationAnswer[]> {
    await this.view.caughtUp();
    return this.view.involving(identityId, this.runtime.clock());
  }

  private async answer(approverId: string, delegationId: string): Promise<DelegationAnswer> {
    await this.view.caughtUp();
    const answer = await this.view.get(delegationId, this.runtime.clock());
    if (!answer) throw new DelegationNotFound(approverId, delegationId);
    return answer;
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
