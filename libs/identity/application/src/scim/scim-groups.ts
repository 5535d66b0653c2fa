import { randomUUID } from 'node:crypto';
import { WrongExpectedVersionError, type SqlExecutor } from '@custos/platform/event-store';
import type { ContextRuntime } from '@custos/platform/runtime';
import type { EmployeeDirectory } from '../employee-directory';
import { ScimError } from './scim-error';
import { etagOf, ifMatchSatisfied } from './scim-etag';
import { reassignGroups } from './scim-group-assignment';
import { answerOf, checkListQuery, listResponse, type ScimAnswer, type ScimListQuery } from './scim-list';
import { canonicalResource } from './scim-canonical';
import { applyScimPatch } from './scim-patch';
import { isUniqueViolation, ScimRecords, type ScimGroupRecord } from './scim-records';
import { GROUP_RESOURCE, SCIM, scimBaseUrl } from './scim-schemas';
import { checkUntrustedValue } from './scim-untrusted';
import type { ScimRequestContext } from './scim-users';

type Resource = Record<string, unknown>;

interface GroupInput {
  displayName: string;
  externalId?: string;
  members: string[];
}

const ATTEMPTS = 3;

/**
 * ScimGroups is the SCIM door's Groups resource. A Group's displayName is an attribute of each
 * member identity (`groups`, matched by birthright rules): every membership change, rename or
 * delete assigns the affected identities their new groups through their streams (AssignGroups),
 * in the same transaction as the Group tables. Members are Users (identities) only.
 */
export class ScimGroups {
  private readonly records: ScimRecords;
  private readonly baseUrl: string;

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: EmployeeDirectory,
    records?: ScimRecords,
  ) {
    this.records = records ?? new ScimRecords(runtime.store.context);
    this.baseUrl = scimBaseUrl(runtime.publicUrl);
  }

  async get(groupId: string, context: ScimRequestContext): Promise<ScimAnswer> {
    const group = await this.records.group(this.runtime.db, groupId);
    if (!group) throw ScimError.notFound(`Group ${groupId} not found`);
    const displays = await this.records.memberDisplays(this.runtime.db, group.members);
    return answerOf(groupResource(group, this.baseUrl, displays), GROUP_RESOURCE, context);
  }

  async list(query: ScimListQuery): Promise<Resource> {
    checkListQuery(query, GROUP_RESOURCE);
    const groups = await this.records.groups(this.runtime.db);
    const displays = await this.records.memberDisplays(this.runtime.db, [...new Set(groups.flatMap((g) => g.members))]);
    return listResponse(
      groups.map((g) => groupResource(g, this.baseUrl, displays)),
      query,
      GROUP_RESOURCE,
    );
  }

  async create(body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    const input = readGroupResource(body);
    const groupId = randomUUID();
    await this.transaction(async (tx) => {
      const now = this.now();
      await this.records.insertGroup(tx, { groupId, displayName: input.displayName, externalId: input.externalId, members: input.members, created: now });
      await this.assign(tx, null, input, now, context);
    });
    return this.get(groupId, context);
  }

  async replace(groupId: string, body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    const input = readGroupResource(body);
    await this.change(groupId, context, () => input);
    return this.get(groupId, context);
  }

  /** patch applies PatchOp operations (with scim-patch) to the Group; members are compared by `value` only. */
  async patch(groupId: string, body: unknown, context: ScimRequestContext): Promise<ScimAnswer> {
    await this.change(groupId, context, (current) => {
      const resource = { ...groupResource(current, this.baseUrl), members: current.members.map((value) => ({ value })) };
      const patched = applyScimPatch(resource, body, GROUP_RESOURCE, { reduceValue: (path, value) => (/^members\b/i.test(path) ? membersByValue(value) : value) });
      return readGroupResource(patched);
    });
    return this.get(groupId, context);
  }

  /** delete removes the Group; its members lose it from their `groups`. */
  async delete(groupId: string, context: ScimRequestContext): Promise<void> {
    await this.transaction(async (tx) => {
      const current = await this.locked(tx, groupId, context);
      await this.records.deleteGroup(tx, groupId);
      await this.assign(tx, current, null, this.now(), context);
    });
  }

  private async change(groupId: string, context: ScimRequestContext, next: (current: ScimGroupRecord) => GroupInput): Promise<void> {
    await this.transaction(async (tx) => {
      const current = await this.locked(tx, groupId, context);
      const input = next(current);
      const now = this.now();
      await this.records.updateGroup(tx, { groupId, ...input }, now);
      await this.assign(tx, current, input, now, context);
    });
  }

  /** The Group, locked for this transaction (changes to one Group queue up), after the If-Match check. */
  private async locked(tx: SqlExecutor, groupId: string, context: ScimRequestContext): Promise<ScimGroupRecord> {
    const current = await this.records.group(tx, groupId, { forUpdate: true });
    if (!current) throw ScimError.notFound(`Group ${groupId} not found`);
    if (!ifMatchSatisfied(context.ifMatch, current.version)) {
      throw ScimError.preconditionFailed(`If-Match ${context.ifMatch} does not match the Group's version ${etagOf(current.version)}`);
    }
    return current;
  }

  /** Gives every identity whose membership (or the Group's name) changed its new groups. */
  private async assign(tx: SqlExecutor, before: GroupInput | null, after: GroupInput | null, now: string, context: ScimRequestContext): Promise<void> {
    const renamed = before !== null && after !== null && before.displayName !== after.displayName;
    const affected = new Set([...(before?.members ?? []), ...(after?.members ?? [])]);
    const correlationId = context.correlationId ?? randomUUID();
    for (const identityId of affected) {
      const was = before?.members.includes(identityId) ?? false;
      const is = after?.members.includes(identityId) ?? false;
      if (was && is && !renamed) continue;
      if (is && !was) await this.requireUser(tx, identityId);
      await reassignGroups(
        this.runtime.store,
        tx,
        identityId,
        { removed: was && before ? [before.displayName] : [], added: is && after ? [after.displayName] : [] },
        { now, correlationId, actor: context.actor },
      );
    }
  }

  private async requireUser(tx: SqlExecutor, identityId: string): Promise<void> {
    const user = await this.records.user(tx, identityId);
    if (user?.deleted || !(await this.directory.byIdentityId(tx, identityId))) throw ScimError.invalidValue(`member ${identityId} is not a User`);
  }

  /** One transaction; a concurrent write to a member's identity stream makes it run again. */
  private async transaction(work: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runtime.db.transaction(work);
      } catch (error) {
        if (isUniqueViolation(error, 'scim_groups_display_name')) throw ScimError.uniqueness('a Group with this displayName exists (case-insensitive)');
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (attempt >= ATTEMPTS) throw new ScimError(409, undefined, 'a member is being changed concurrently; retry');
      }
    }
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

/** groupResource is the SCIM representation of a stored Group; `displays` names its members (`display`). */
export function groupResource(group: ScimGroupRecord, baseUrl: string, displays: Map<string, string> = new Map()): Resource {
  return {
    schemas: [SCIM.group],
    id: group.groupId,
    ...(group.externalId !== undefined ? { externalId: group.externalId } : {}),
    displayName: group.displayName,
    members: group.members.map((value) => {
      const display = displays.get(value);
      return { value, ...(display !== undefined ? { display } : {}), $ref: `${baseUrl}/Users/${value}`, type: 'User' };
    }),
    meta: { resourceType: 'Group', created: group.created, lastModified: group.lastModified, location: `${baseUrl}/Groups/${group.groupId}`, version: etagOf(group.version) },
  };
}

/**
 * readGroupResource reads a Group as a client sent it (or as a PATCH left it), names in any case.
 * A member's `display` is accepted and not kept: it is read-only, the User's name is shown instead.
 */
export function readGroupResource(body: unknown): GroupInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ScimError.invalidSyntax('a Group is a JSON object');
  checkUntrustedValue(body, 'the Group');
  const group = canonicalResource(body as Resource, GROUP_RESOURCE);
  const field = (name: string) => (Object.hasOwn(group, name) ? group[name] : undefined);
  const schemas = field('schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM.group.toLowerCase())) {
    throw ScimError.invalidSyntax(`schemas must contain ${SCIM.group}`);
  }
  const displayName = field('displayName');
  if (typeof displayName !== 'string' || displayName.trim() === '') throw ScimError.invalidValue('displayName is required');
  if (displayName.length > 256) throw ScimError.invalidValue('displayName is longer than 256 characters');
  const externalId = field('externalId');
  if (externalId !== undefined && externalId !== null && typeof externalId !== 'string') throw ScimError.invalidValue('externalId must be a string');
  const members = field('members') ?? [];
  if (!Array.isArray(members)) throw ScimError.invalidValue('members must be an array');
  const ids = members.map((m) => {
    const member = typeof m === 'object' && m !== null && !Array.isArray(m) ? (m as Resource) : {};
    const value = Object.hasOwn(member, 'value') ? member.value : undefined;
    if (typeof value !== 'string' || value.trim() === '') throw ScimError.invalidValue('each member needs a value (a User id)');
    const type = Object.hasOwn(member, 'type') ? member.type : undefined;
    if (typeof type === 'string' && type.toLowerCase() !== 'user') throw ScimError.invalidValue(`members of type ${type} are not supported: Users only`);
    return value.trim();
  });
  return {
    displayName: displayName.trim(),
    ...(typeof externalId === 'string' && externalId !== '' ? { externalId } : {}),
    members: [...new Set(ids)],
  };
}

/** Members in a PATCH value, reduced to `{ value }` so that a remove matches what is stored. */
function membersByValue(value: unknown): unknown {
  const reduce = (m: unknown) => (typeof m === 'object' && m !== null && Object.hasOwn(m, 'value') ? { value: (m as Resource).value } : m);
  return Array.isArray(value) ? value.map(reduce) : reduce(value);
}
