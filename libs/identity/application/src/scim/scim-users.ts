import { randomUUID } from 'node:crypto';
import { identityStreamId, type EmployeeRecord } from '@custos/identity/contracts';
import { WrongExpectedVersionError, type SqlExecutor } from '@custos/platform/event-store';
import type { ContextRuntime } from '@custos/platform/runtime';
import type { EmployeeDirectory } from '../employee-directory';
import type { HrChange } from '../hr-change';
import type { HrIntake } from '../hr-intake';
import type { IdentitiesView, IdentityView } from '../read-models/identities/identities-view';
import { ScimError } from './scim-error';
import { ifMatchSatisfied } from './scim-etag';
import { reassignGroups } from './scim-group-assignment';
import { answerOf, checkListQuery, listResponse, type ScimAnswer, type ScimListQuery } from './scim-list';
import { applyScimPatch } from './scim-patch';
import { isUniqueViolation, ScimRecords, type StoredScimUser } from './scim-records';
import { parseScimFilter } from './scim-filter';
import { SCIM, scimBaseUrl, USER_RESOURCE } from './scim-schemas';
import { activeOf, readUserResource, userResource, type ScimUserInput } from './scim-user-mapping';

type Resource = Record<string, unknown>;

/**
 * What a SCIM request brings besides its body. There is no base URL here on purpose: links
 * (`Location`, `meta.location`, `$ref`) come from the configured public URL (scimBaseUrl), never
 * from the request's Host header, which a caller chooses.
 */
export interface ScimRequestContext {
  /** The caller's Idempotency-Key, made unique per caller: it names the HR change (eventId), else a UUID does. */
  idempotencyKey?: string;
  correlationId?: string;
  /** The authenticated caller (a connector token's `connector:<id>`), recorded as the changes' actor. */
  actor?: string;
  ifMatch?: string;
  attributes?: string;
  excludedAttributes?: string;
}

const ATTEMPTS = 3;
const IDENTITY_PAGE = 1000;

/** Someone else changed the identity between our read and our write. */
class StaleRead extends Error {}

/**
 * ScimUsers is the SCIM door's Users resource: a User is an identity. Create is a joiner,
 * PUT and PATCH are movers (`active: false` a leaver, `active: true` on a terminated identity
 * a rehire), DELETE is a leaver; all of them go through HrIntake (system `scim`, channel
 * `scim`) with the userName index written in the same transaction. Reads come from the
 * identities view, caught up first, so that a client reads its own writes.
 *
 * `userName eq` and `externalId eq` (what identity providers ask on every sync) are looked up
 * by index; any other filter is evaluated in memory over every identity: fine for tens of
 * thousands of identities, not for millions (translating filters to SQL would be the next step).
 */
export class ScimUsers {
  private readonly records: ScimRecords;
  private readonly baseUrl: string;

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly intake: HrIntake,
    private readonly directory: EmployeeDirectory,
    private readonly view: IdentitiesView,
    records?: ScimRecords,
  ) {
    this.records = records ?? new ScimRecords(runtime.store.context);
    this.baseUrl = scimBaseUrl(runtime.publicUrl);
  }

  async migrate(x: SqlExecutor = this.runtime.db): Promise<void> {
    await this.records.migrate(x);
  }

  async get(identityId: string, context: ScimRequestContext): Promise<ScimAnswer> {
    const { resource } = await this.current(identityId);
    return answerOf(resource, USER_RESOURCE, context);
  }

  async list(query: ScimListQuery): Promise<Resource> {
    checkListQuery(query, USER_RESOURCE);
    await this.view.caughtUp();
    const candidates = await this.candidates(query.filter);
    const [records, groups] = [await this.records.users(this.runtime.db), await this.records.groupsOf(this.runtime.db, candidates)];
    const resources: Resource[] = [];
    const add = (identity: IdentityView) => {
      const record = records.get(identity.identityId);
      if (!record?.deleted) resources.push(userResource(identity, record, groups.get(identity.identityId) ?? [], this.baseUrl));
    };
    if (candidates) {
      for (const id of [...candidates].sort()) {
        const identity = await this.view.get(id);
        if (identity) add(identity);
      }
      return listResponse(resources, query, USER_RESOURCE);
    }
    for (let after: string | undefined; ; ) {
      const page = await this.view.list({ after, limit: IDENTITY_PAGE });
      page.items.forEach(add);
      if (!page.next) break;
      after = page.next;
    }
    return listResponse(resources, query, USER_RESOURCE);
  }

  /**
   * The only identities that can match the lookups identity providers make on every sync
   * (`userName eq "x"`, `externalId eq "x"`), found by index; undefined for any other filter,
   * which is evaluated over every identity. The filter itself is still applied to them.
   */
  private async candidates(filterText: string | undefined): Promise<string[] | undefined> {
    if (!filterText) return undefined;
    const filter = parseScimFilter(filterText, USER_RESOURCE);
    if (filter.op !== 'eq' || typeof filter.compValue !== 'string') return undefined;
    const path = filter.attrPath.toLowerCase();
    const attribute = path.startsWith(`${SCIM.user.toLowerCase()}:`) ? path.slice(SCIM.user.length + 1) : path;
    if (attribute === 'externalid') return this.records.byExternalId(this.runtime.db, filter.compValue);
    if (attribute !== 'username') return undefined;
    const byEmail = await this.view.list({ email: filter.compValue, limit: 100 });
    return [...new Set([...(await this.records.holdersOf(this.runtime.db, filter.compValue)), ...byEmail.items.map((i) => i.identityId)])];
  }

  /**
   * create is a joiner under a new id. An employeeNumber that belongs to a terminated identity
   * that SCIM does not hold (deleted, or never provisioned through SCIM) is a returning
   * employee: that identity is rehired, so their history stays one identity.
   */
  async create(body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    const newId = randomUUID();
    const input = readUserResource(body, { identityId: newId });
    this.noteEmail(input, newId);
    // Caught up, so that the userName check below sees identities that just arrived by another door.
    await this.view.caughtUp();
    const returning = await this.returningIdentity(input);
    const identityId = returning?.identityId ?? newId;
    const managerEmployeeId = await this.managerEmployeeId(input.managerId, identityId, undefined);
    const now = this.now();
    const employee: EmployeeRecord = withoutAbsent({ ...input.employee, managerEmployeeId });
    const changes: HrChange[] = [
      returning
        ? this.change(context, 0, 'rehire', employee, await this.scimGroupNames(identityId))
        : this.change(context, 0, 'joiner', employee),
    ];
    if (input.active === false) changes.push(this.change(context, 1, 'leaver', employee));
    await this.write(identityId, changes, context, {
      before: async (tx) => {
        await this.claimUserName(tx, identityId, input, now);
      },
    });
    return this.get(identityId, context);
  }

  /** replace (PUT) states the whole User: its HR record is a mover, `active` may end or bring back the identity. */
  async replace(identityId: string, body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    return this.retrying(async () => {
      const current = await this.current(identityId);
      this.precondition(current.identity, context);
      const input = readUserResource(body, { identityId, currentEmployeeId: current.identity.employeeId, storedAttributes: current.record?.attributes });
      this.noteEmail(input, identityId);
      await this.update(current.identity, current.record, input, input.active, context);
    }).then(() => this.get(identityId, context));
  }

  /** patch applies PatchOp operations (with scim-patch) to the User as it reads now, then writes the result as a PUT would. */
  async patch(identityId: string, body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    return this.retrying(async () => {
      const current = await this.current(identityId);
      this.precondition(current.identity, context);
      const patched = applyScimPatch(current.resource, body, USER_RESOURCE, { readOnly: ['groups'] });
      const input = readUserResource(patched, { identityId, currentEmployeeId: current.identity.employeeId, storedAttributes: current.record?.attributes });
      this.noteEmail(input, identityId);
      // Only a change of `active` is a lifecycle request: echoing the current value back is not.
      const requested = activeOf(patched.active);
      await this.update(current.identity, current.record, input, requested !== current.resource.active ? requested : undefined, context);
    }).then(() => this.get(identityId, context));
  }

  /** delete is a leaver; the User is gone from SCIM (404, not listed, its userName free) and leaves its Groups, the identity stays, terminated. */
  async delete(identityId: string, context: ScimRequestContext): Promise<void> {
    await this.retrying(async () => {
      const { identity, record } = await this.load(identityId);
      this.precondition(identity, context);
      const now = this.now();
      const changes = identity.status === 'terminated' ? [] : [this.change(context, 0, 'leaver', recordOf(identity))];
      await this.write(identityId, changes, context, {
        before: (tx) => this.unchangedSince(tx, identity, context),
        after: async (tx) => {
          await this.records.deleteUser(tx, identityId, record?.userName ?? identity.email, now);
          for (const group of await this.records.leaveAllGroups(tx, identityId)) {
            await reassignGroups(this.runtime.store, tx, identityId, { removed: [group.displayName], added: [] }, { now, correlationId: context.correlationId ?? randomUUID(), actor: context.actor });
          }
        },
      });
    });
  }

  private async update(identity: IdentityView, record: StoredScimUser | undefined, input: ScimUserInput, active: boolean | undefined, context: ScimRequestContext): Promise<void> {
    const identityId = identity.identityId;
    // A manager HR named who has no identity yet cannot be shown in SCIM; not naming one keeps them.
    const keepUnlinked = input.managerId === null && identity.managerId === undefined ? identity.managerEmployeeId : undefined;
    const managerEmployeeId = (await this.managerEmployeeId(input.managerId, identityId, identity)) ?? keepUnlinked;
    const employee: EmployeeRecord = withoutAbsent({ ...input.employee, managerEmployeeId });
    const recordChanged = !sameRecord(employee, recordOf(identity));
    const changes: HrChange[] = [];
    if (identity.status === 'terminated') {
      if (active === true) changes.push(this.change(context, 0, 'rehire', employee, await this.scimGroupNames(identityId)));
      else if (recordChanged) throw ScimError.mutability('the User is terminated (active is false): its record cannot change; set active to true to rehire');
    } else {
      if (employee.employeeId !== identity.employeeId) throw ScimError.mutability(`employeeNumber is ${identity.employeeId} and cannot change`);
      if (recordChanged) changes.push(this.change(context, 0, 'mover', employee));
      if (active === false) changes.push(this.change(context, 1, 'leaver', employee));
    }
    const now = this.now();
    await this.write(identityId, changes, context, {
      before: async (tx) => {
        await this.unchangedSince(tx, identity, context);
        await this.claimUserName(tx, identityId, input, now, record?.deleted === false ? record.created : now);
      },
    });
  }

  private async write(identityId: string, changes: HrChange[], context: ScimRequestContext, hooks: { before?: (tx: SqlExecutor) => Promise<void>; after?: (tx: SqlExecutor) => Promise<void> }): Promise<void> {
    try {
      await this.intake.receiveForIdentity(identityId, changes, { correlationId: context.correlationId, actor: context.actor, before: hooks.before, after: hooks.after });
    } catch (error) {
      if (isUniqueViolation(error, 'scim_users_user_name')) throw ScimError.uniqueness('userName is already taken (case-insensitive)');
      if ((error as { code?: string }).code === 'employee-id-taken' || (error as { code?: string }).code === 'identity-already-exists') {
        throw ScimError.uniqueness(`employeeNumber already belongs to another User: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  /** The userName is this User's: the unique index refuses it when another User holds it, also one that arrived by another door with that email. */
  private async claimUserName(tx: SqlExecutor, identityId: string, input: ScimUserInput, now: string, created = now): Promise<void> {
    const others = await this.view.list({ email: input.userName, limit: 10 });
    for (const other of others.items) {
      if (other.identityId === identityId) continue;
      const record = await this.records.user(tx, other.identityId);
      if (!record) throw ScimError.uniqueness(`userName ${input.userName} is the email of another User (${other.identityId})`);
    }
    await this.records.saveUser(tx, { identityId, userName: input.userName, externalId: input.externalId, attributes: input.attributes, created, lastModified: now });
  }

  /** Inside the write: the identity is still at the version the change was computed from. */
  private async unchangedSince(tx: SqlExecutor, identity: IdentityView, context: ScimRequestContext): Promise<void> {
    const newer = await this.runtime.store.readStream(identityStreamId(identity.identityId), identity.version + 1, { tx });
    if (newer.length === 0) return;
    if (context.ifMatch) throw ScimError.preconditionFailed(`the User changed: its version is now ${identity.version + newer.length}`);
    throw new StaleRead();
  }

  private precondition(identity: IdentityView, context: ScimRequestContext): void {
    if (!ifMatchSatisfied(context.ifMatch, identity.version)) {
      throw ScimError.preconditionFailed(`If-Match ${context.ifMatch} does not match the User's version W/"${identity.version}"`);
    }
  }

  /** Runs a read-decide-write again when another writer got in between (no If-Match given). */
  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        const stale = error instanceof StaleRead || error instanceof WrongExpectedVersionError;
        if (!stale) throw error;
        if (attempt >= ATTEMPTS) throw new ScimError(409, undefined, 'the User is being changed concurrently; retry');
      }
    }
  }

  private async load(identityId: string): Promise<{ identity: IdentityView; record?: StoredScimUser }> {
    await this.view.caughtUp();
    const identity = await this.view.get(identityId);
    const record = (await this.records.user(this.runtime.db, identityId)) ?? undefined;
    if (!identity || record?.deleted) throw ScimError.notFound(`User ${identityId} not found`);
    return { identity, record };
  }

  private async current(identityId: string): Promise<{ identity: IdentityView; record?: StoredScimUser; resource: Resource }> {
    const { identity, record } = await this.load(identityId);
    const groups = (await this.records.groupsOf(this.runtime.db, [identityId])).get(identityId) ?? [];
    return { identity, record, resource: userResource(identity, record, groups, this.baseUrl) };
  }

  private async returningIdentity(input: ScimUserInput): Promise<{ identityId: string } | null> {
    const known = await this.directory.byEmployeeId(this.runtime.db, input.employee.employeeId);
    if (!known) return null;
    const [identity, record] = [await this.view.get(known.identityId), await this.records.user(this.runtime.db, known.identityId)];
    if (identity?.status === 'terminated' && (!record || record.deleted)) return { identityId: known.identityId };
    throw ScimError.uniqueness(`employeeNumber ${input.employee.employeeId} already belongs to User ${known.identityId}`);
  }

  /** The manager's employee id, from the manager's User id. */
  private async managerEmployeeId(managerId: string | null, identityId: string, identity: IdentityView | undefined): Promise<string | undefined> {
    if (managerId === null) return undefined;
    if (managerId === identityId) throw ScimError.invalidValue('a User cannot be their own manager');
    if (identity && managerId === identity.managerId && identity.managerEmployeeId) return identity.managerEmployeeId;
    const manager = await this.directory.byIdentityId(this.runtime.db, managerId);
    if (!manager) throw ScimError.invalidValue(`manager ${managerId} is not a User`);
    return manager.employeeId;
  }

  private async scimGroupNames(identityId: string): Promise<string[]> {
    return ((await this.records.groupsOf(this.runtime.db, [identityId])).get(identityId) ?? []).map((g) => g.displayName);
  }

  private change(context: ScimRequestContext, index: number, type: HrChange['type'], employee: EmployeeRecord, groups?: string[]): HrChange {
    return {
      eventId: context.idempotencyKey ? `${context.idempotencyKey}#${index}` : randomUUID(),
      system: 'scim',
      type,
      effectiveAt: this.now(),
      employee,
      channel: 'scim',
      ...(groups ? { groups } : {}),
    };
  }

  /** A User whose email is not an address is kept (it must stay deprovisionable); the log says so, for whoever fixes the source. */
  private noteEmail(input: ScimUserInput, identityId: string): void {
    if (input.emailNotAnAddress) this.runtime.logger.warn({ identityId, userName: input.userName, email: input.employee.email }, 'SCIM User kept with an email that is not an address');
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

const RECORD_FIELDS: (keyof EmployeeRecord)[] = ['employeeId', 'givenName', 'familyName', 'email', 'department', 'title', 'managerEmployeeId', 'location', 'costCenter', 'employmentType'];

function recordOf(identity: IdentityView): EmployeeRecord {
  return withoutAbsent(Object.fromEntries(RECORD_FIELDS.map((f) => [f, identity[f]])) as unknown as EmployeeRecord);
}

function sameRecord(a: EmployeeRecord, b: EmployeeRecord): boolean {
  return RECORD_FIELDS.every((f) => (a[f] ?? null) === (b[f] ?? null));
}

function withoutAbsent<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
