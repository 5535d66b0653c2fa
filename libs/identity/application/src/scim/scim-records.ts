import type { SqlExecutor } from '@custos/platform/event-store';
import type { ScimGroupRef, ScimUserRecord } from './scim-user-mapping';

/** A SCIM Group as stored: its members are identity ids. */
export interface ScimGroupRecord {
  groupId: string;
  displayName: string;
  externalId?: string;
  members: string[];
  version: number;
  created: string;
  lastModified: string;
}

/** A kept User row; `deleted` after a SCIM DELETE (the identity remains, terminated). */
export type StoredScimUser = ScimUserRecord & { deleted: boolean };

/**
 * The SCIM door's own tables in the identity schema: the userName index (unique,
 * case-insensitive, among Users not deleted) with the client's kept attributes, and the Groups
 * with their members. They are written in the same transaction as the identity events they go
 * with, so that they never disagree with the identity streams.
 */
export class ScimRecords {
  constructor(private readonly schema: string) {}

  async migrate(x: SqlExecutor): Promise<void> {
    const s = this.schema;
    await x.query(`CREATE TABLE IF NOT EXISTS ${s}.scim_users (
      identity_id text PRIMARY KEY, user_name text NOT NULL, external_id text, attributes jsonb NOT NULL,
      created timestamptz NOT NULL, last_modified timestamptz NOT NULL, deleted_at timestamptz)`);
    await x.query(`CREATE UNIQUE INDEX IF NOT EXISTS scim_users_user_name ON ${s}.scim_users (lower(user_name)) WHERE deleted_at IS NULL`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${s}.scim_groups (
      group_id text PRIMARY KEY, display_name text NOT NULL, external_id text, version int NOT NULL,
      created timestamptz NOT NULL, last_modified timestamptz NOT NULL)`);
    await x.query(`CREATE UNIQUE INDEX IF NOT EXISTS scim_groups_display_name ON ${s}.scim_groups (lower(display_name))`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${s}.scim_group_members (
      group_id text NOT NULL REFERENCES ${s}.scim_groups (group_id) ON DELETE CASCADE, identity_id text NOT NULL,
      PRIMARY KEY (group_id, identity_id))`);
    await x.query(`CREATE INDEX IF NOT EXISTS scim_group_members_identity ON ${s}.scim_group_members (identity_id)`);
  }

  async user(x: SqlExecutor, identityId: string): Promise<StoredScimUser | null> {
    const { rows } = await x.query<UserRow>(`SELECT * FROM ${this.schema}.scim_users WHERE identity_id = $1`, [identityId]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async users(x: SqlExecutor): Promise<Map<string, StoredScimUser>> {
    const { rows } = await x.query<UserRow>(`SELECT * FROM ${this.schema}.scim_users`);
    return new Map(rows.map((row) => [row.identity_id, toUser(row)]));
  }

  /** Identity ids whose User holds this userName (case-insensitive) and is not deleted. */
  async holdersOf(x: SqlExecutor, userName: string): Promise<string[]> {
    const { rows } = await x.query<{ identity_id: string }>(`SELECT identity_id FROM ${this.schema}.scim_users WHERE lower(user_name) = lower($1) AND deleted_at IS NULL`, [userName]);
    return rows.map((r) => r.identity_id);
  }

  /** Identity ids whose User has this externalId (case-sensitive) and is not deleted. */
  async byExternalId(x: SqlExecutor, externalId: string): Promise<string[]> {
    const { rows } = await x.query<{ identity_id: string }>(`SELECT identity_id FROM ${this.schema}.scim_users WHERE external_id = $1 AND deleted_at IS NULL`, [externalId]);
    return rows.map((r) => r.identity_id);
  }

  /** Records a User (a deleted one comes back); a userName another User holds fails on the unique index. */
  async saveUser(tx: SqlExecutor, user: ScimUserRecord): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.scim_users (identity_id, user_name, external_id, attributes, created, last_modified) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (identity_id) DO UPDATE SET user_name = EXCLUDED.user_name, external_id = EXCLUDED.external_id, attributes = EXCLUDED.attributes,
         last_modified = EXCLUDED.last_modified, created = CASE WHEN ${this.schema}.scim_users.deleted_at IS NULL THEN ${this.schema}.scim_users.created ELSE EXCLUDED.created END,
         deleted_at = NULL`,
      [user.identityId, user.userName, user.externalId ?? null, JSON.stringify(user.attributes), user.created, user.lastModified],
    );
  }

  /** Marks a User deleted; an identity that never came through SCIM gets a row that says so. */
  async deleteUser(tx: SqlExecutor, identityId: string, userName: string, at: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.scim_users (identity_id, user_name, attributes, created, last_modified, deleted_at) VALUES ($1, $2, '{}', $3, $3, $3)
       ON CONFLICT (identity_id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at, last_modified = EXCLUDED.last_modified`,
      [identityId, userName, at],
    );
  }

  async group(x: SqlExecutor, groupId: string, options: { forUpdate?: boolean } = {}): Promise<ScimGroupRecord | null> {
    const { rows } = await x.query<GroupRow>(`SELECT * FROM ${this.schema}.scim_groups WHERE group_id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [groupId]);
    if (!rows[0]) return null;
    const members = await x.query<{ identity_id: string }>(`SELECT identity_id FROM ${this.schema}.scim_group_members WHERE group_id = $1 ORDER BY identity_id`, [groupId]);
    return toGroup(rows[0], members.rows.map((r) => r.identity_id));
  }

  async groups(x: SqlExecutor): Promise<ScimGroupRecord[]> {
    const { rows } = await x.query<GroupRow>(`SELECT * FROM ${this.schema}.scim_groups ORDER BY group_id`);
    const members = await x.query<{ group_id: string; identity_id: string }>(`SELECT group_id, identity_id FROM ${this.schema}.scim_group_members ORDER BY identity_id`);
    const byGroup = new Map<string, string[]>();
    for (const m of members.rows) byGroup.set(m.group_id, [...(byGroup.get(m.group_id) ?? []), m.identity_id]);
    return rows.map((row) => toGroup(row, byGroup.get(row.group_id) ?? []));
  }

  /** The Groups of each identity (all identities when `identityIds` is absent). */
  async groupsOf(x: SqlExecutor, identityIds?: string[]): Promise<Map<string, ScimGroupRef[]>> {
    const where = identityIds ? 'WHERE m.identity_id = ANY($1)' : '';
    const { rows } = await x.query<{ identity_id: string; group_id: string; display_name: string }>(
      `SELECT m.identity_id, g.group_id, g.display_name FROM ${this.schema}.scim_group_members m JOIN ${this.schema}.scim_groups g USING (group_id) ${where} ORDER BY g.display_name`,
      identityIds ? [identityIds] : [],
    );
    const byIdentity = new Map<string, ScimGroupRef[]>();
    for (const r of rows) byIdentity.set(r.identity_id, [...(byIdentity.get(r.identity_id) ?? []), { groupId: r.group_id, displayName: r.display_name }]);
    return byIdentity;
  }

  /**
   * The display name of each member (RFC 7643 `members.display`): the User's own displayName when
   * SCIM keeps one, else the identity's given and family name, read from the identities view of
   * the same schema (a member not yet in the view has none).
   */
  async memberDisplays(x: SqlExecutor, identityIds: string[]): Promise<Map<string, string>> {
    if (identityIds.length === 0) return new Map();
    const { rows } = await x.query<{ identity_id: string; display: string | null }>(
      `SELECT i.identity_id, COALESCE(NULLIF(u.attributes->>'displayName', ''), concat_ws(' ', i.snapshot->>'givenName', i.snapshot->>'familyName')) AS display
       FROM ${this.schema}.identities i LEFT JOIN ${this.schema}.scim_users u ON u.identity_id = i.identity_id WHERE i.identity_id = ANY($1)`,
      [identityIds],
    );
    return new Map(rows.filter((r) => r.display).map((r) => [r.identity_id, r.display as string]));
  }

  async insertGroup(tx: SqlExecutor, group: Omit<ScimGroupRecord, 'version' | 'lastModified'>): Promise<void> {
    await tx.query(`INSERT INTO ${this.schema}.scim_groups (group_id, display_name, external_id, version, created, last_modified) VALUES ($1, $2, $3, 1, $4, $4)`, [
      group.groupId,
      group.displayName,
      group.externalId ?? null,
      group.created,
    ]);
    await this.setMembers(tx, group.groupId, group.members);
  }

  /** Replaces a Group's name and members and moves its version on. */
  async updateGroup(tx: SqlExecutor, group: { groupId: string; displayName: string; externalId?: string; members: string[] }, at: string): Promise<void> {
    await tx.query(`UPDATE ${this.schema}.scim_groups SET display_name = $2, external_id = $3, version = version + 1, last_modified = $4 WHERE group_id = $1`, [
      group.groupId,
      group.displayName,
      group.externalId ?? null,
      at,
    ]);
    await this.setMembers(tx, group.groupId, group.members);
  }

  async deleteGroup(tx: SqlExecutor, groupId: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.schema}.scim_groups WHERE group_id = $1`, [groupId]);
  }

  /** Takes an identity out of every Group; answers the Groups it was in. */
  async leaveAllGroups(tx: SqlExecutor, identityId: string): Promise<ScimGroupRecord[]> {
    const { rows } = await tx.query<{ group_id: string }>(`DELETE FROM ${this.schema}.scim_group_members WHERE identity_id = $1 RETURNING group_id`, [identityId]);
    const left: ScimGroupRecord[] = [];
    for (const { group_id } of rows) {
      await tx.query(`UPDATE ${this.schema}.scim_groups SET version = version + 1 WHERE group_id = $1`, [group_id]);
      const group = await this.group(tx, group_id);
      if (group) left.push(group);
    }
    return left;
  }

  private async setMembers(tx: SqlExecutor, groupId: string, members: string[]): Promise<void> {
    await tx.query(`DELETE FROM ${this.schema}.scim_group_members WHERE group_id = $1`, [groupId]);
    if (members.length > 0) {
      await tx.query(`INSERT INTO ${this.schema}.scim_group_members (group_id, identity_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`, [groupId, members]);
    }
  }
}

interface UserRow {
  identity_id: string;
  user_name: string;
  external_id: string | null;
  attributes: Record<string, unknown> | string;
  created: Date | string;
  last_modified: Date | string;
  deleted_at: Date | string | null;
}

interface GroupRow {
  group_id: string;
  display_name: string;
  external_id: string | null;
  version: number;
  created: Date | string;
  last_modified: Date | string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

function toUser(row: UserRow): StoredScimUser {
  return {
    identityId: row.identity_id,
    userName: row.user_name,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    attributes: typeof row.attributes === 'string' ? (JSON.parse(row.attributes) as Record<string, unknown>) : row.attributes,
    created: iso(row.created),
    lastModified: iso(row.last_modified),
    deleted: row.deleted_at !== null,
  };
}

function toGroup(row: GroupRow, members: string[]): ScimGroupRecord {
  return {
    groupId: row.group_id,
    displayName: row.display_name,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    members,
    version: Number(row.version),
    created: iso(row.created),
    lastModified: iso(row.last_modified),
  };
}

/** isUniqueViolation tells a PostgreSQL unique-index failure on one of the named indexes. */
export function isUniqueViolation(error: unknown, index: string): boolean {
  const e = error as { code?: string; constraint?: string; message?: string };
  return e?.code === '23505' && (e.constraint === index || (e.message ?? '').includes(index));
}
