import type { EntitlementChanges, EntitlementDefinition } from '@custos/entitlement/contracts';
import { applyEntitlementChanges, SECURITY_ENTITLEMENT } from '@custos/entitlement/contracts';
import { changesIdentity, type IdentityEvent, type IdentityStatus } from '@custos/identity/contracts';
import type { CustosEvent, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

/** What the request context knows of an identity: who they are to an approver, their manager, and whether they can still decide. */
export interface IdentityProfile {
  identityId: string;
  status: IdentityStatus;
  givenName?: string;
  familyName?: string;
  email?: string;
  title?: string;
  department?: string;
  managerId?: string;
}

/** A catalog entitlement as requests need it: its approval facts, and whether it can still be asked for. */
export interface CatalogEntitlement extends EntitlementDefinition {
  retired: boolean;
}

/** A grant an access request gave, as the entitlement context announced it (AccessGranted with a requestId). */
export interface RequestGrantRecord {
  grantId: string;
  requestId: string;
  identityId: string;
  entitlement: string;
}

/** A grant the beneficiary of a request holds, as an approver's inbox shows it (from the entitlement context's access events). */
export interface HeldGrant {
  grantId: string;
  entitlement: string;
  source: string;
  role?: string;
  requestId?: string;
  grantedAt?: string;
  expiresAt?: string;
}

/**
 * The request context's own copy of what it needs from the other contexts, learnt from their
 * events on the bus (never from their tables): identity profiles (managers, names, who has left),
 * the catalog's entitlements (approval policy, privilege, maxDuration, owner), the holders of
 * `custos:security`, which grant belongs to which request, and the grants each identity holds
 * (what an approver sees of a beneficiary's current access, see recordAccessEvent). Every write is guarded so that a
 * redelivered or late event changes nothing: profiles and entitlements keep the newest stream
 * version, a grant once revoked stays revoked (security grants included), an end only moves later.
 */
export class Directory {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.directory_identities (
      identity_id text PRIMARY KEY, status text NOT NULL, manager_id text, profile jsonb NOT NULL, version int NOT NULL)`);
    await x.query(`CREATE INDEX IF NOT EXISTS directory_identities_manager ON ${this.schema}.directory_identities (manager_id)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.directory_entitlements (
      key text PRIMARY KEY, retired boolean NOT NULL, definition jsonb NOT NULL, version int NOT NULL)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.directory_security_grants (
      grant_id text PRIMARY KEY, identity_id text NOT NULL, revoked boolean NOT NULL)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.directory_grants (
      grant_id text PRIMARY KEY, identity_id text NOT NULL, entitlement text NOT NULL, source text NOT NULL, role text, request_id text,
      granted_at timestamptz, expires_at timestamptz, revoked boolean NOT NULL)`);
    await x.query(`CREATE INDEX IF NOT EXISTS directory_grants_identity ON ${this.schema}.directory_grants (identity_id) WHERE NOT revoked`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.directory_request_grants (
      grant_id text PRIMARY KEY, request_id text NOT NULL, identity_id text NOT NULL, entitlement text NOT NULL)`);
  }

  /** Records the identity an identity event leaves (a superseded change leaves none). */
  async recordIdentityEvent(tx: SqlExecutor, stored: CustosEvent): Promise<void> {
    const event = { type: stored.name, data: stored.data } as IdentityEvent;
    if (!changesIdentity(event)) return;
    const s = event.data.identity;
    const profile: IdentityProfile = {
      identityId: s.identityId,
      status: s.status,
      givenName: s.givenName,
      familyName: s.familyName,
      email: s.email,
      title: s.title,
      department: s.department,
      managerId: s.managerId,
    };
    await tx.query(
      `INSERT INTO ${this.schema}.directory_identities (identity_id, status, manager_id, profile, version) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (identity_id) DO UPDATE SET status = EXCLUDED.status, manager_id = EXCLUDED.manager_id, profile = EXCLUDED.profile, version = EXCLUDED.version
       WHERE ${this.schema}.directory_identities.version < EXCLUDED.version`,
      [profile.identityId, profile.status, profile.managerId ?? null, JSON.stringify(profile), stored.streamversion],
    );
  }

  /**
   * Records what an entitlement event says about the catalog, the security approvers or a
   * request's grants. Returns the request grant an AccessRevoked ended, if it ended one.
   */
  async recordEntitlementEvent(tx: SqlExecutor, stored: CustosEvent): Promise<{ ended?: RequestGrantRecord & { reason: string } }> {
    const data = stored.data as Record<string, unknown>;
    switch (stored.name) {
      case 'EntitlementDefined': {
        const { definedAt: _at, definedBy: _by, ...definition } = data as unknown as EntitlementDefinition & { definedAt: string; definedBy: string };
        await this.writeEntitlement(tx, { ...definition, retired: false }, stored.streamversion);
        return {};
      }
      case 'EntitlementChanged':
      case 'EntitlementRetired': {
        const key = String(data.key);
        const current = await this.entitlementRow(tx, key);
        if (!current || current.version >= stored.streamversion) return {};
        const next: CatalogEntitlement =
          stored.name === 'EntitlementRetired' ? { ...current.entitlement, retired: true } : applyEntitlementChanges(current.entitlement, (data.changes ?? {}) as EntitlementChanges);
        await this.writeEntitlement(tx, next, stored.streamversion);
        return {};
      }
      case 'AccessGranted': {
        const { grantId, identityId, entitlement, requestId } = data as { grantId: string; identityId: string; entitlement: string; requestId?: string };
        if (entitlement === SECURITY_ENTITLEMENT) {
          await tx.query(`INSERT INTO ${this.schema}.directory_security_grants (grant_id, identity_id, revoked) VALUES ($1, $2, false) ON CONFLICT DO NOTHING`, [grantId, identityId]);
        }
        if (requestId) {
          await tx.query(`INSERT INTO ${this.schema}.directory_request_grants (grant_id, request_id, identity_id, entitlement) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
            grantId,
            requestId,
            identityId,
            entitlement,
          ]);
        }
        return {};
      }
      case 'AccessRevoked': {
        const { grantId, identityId, entitlement, reason } = data as { grantId: string; identityId: string; entitlement: string; reason: string };
        if (entitlement === SECURITY_ENTITLEMENT) {
          await tx.query(
            `INSERT INTO ${this.schema}.directory_security_grants (grant_id, identity_id, revoked) VALUES ($1, $2, true) ON CONFLICT (grant_id) DO UPDATE SET revoked = true`,
            [grantId, identityId],
          );
        }
        const { rows } = await tx.query<{ request_id: string }>(`SELECT request_id FROM ${this.schema}.directory_request_grants WHERE grant_id = $1`, [grantId]);
        return rows[0] ? { ended: { grantId, requestId: rows[0].request_id, identityId, entitlement, reason } } : {};
      }
      default:
        return {};
    }
  }

  /**
   * Records what an access event says about the grants an identity holds (AccessGranted,
   * AccessExtended, AccessRevoked), for the approver's view of a beneficiary's current access.
   * Fed by a consumer of its own that starts from the beginning of the entitlement stream, so the
   * copy is whole however late this table came. Every write is an upsert that events arriving out
   * of order or twice leave right: a revocation seen before its grant stays revoked, an end only moves later.
   */
  async recordAccessEvent(tx: SqlExecutor, stored: CustosEvent): Promise<void> {
    const data = stored.data as Record<string, unknown>;
    switch (stored.name) {
      case 'AccessGranted': {
        const { grantId, identityId, entitlement, requestId, source, role, grantedAt, expiresAt } = data as {
          grantId: string;
          identityId: string;
          entitlement: string;
          requestId?: string;
          source: string;
          role?: string;
          grantedAt: string;
          expiresAt?: string;
        };
        // Late after its extension or revocation (a redelivery): what they said is kept, the grant's facts filled in.
        await tx.query(
          `INSERT INTO ${this.schema}.directory_grants AS g (grant_id, identity_id, entitlement, source, role, request_id, granted_at, expires_at, revoked)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, false)
           ON CONFLICT (grant_id) DO UPDATE SET source = EXCLUDED.source, role = EXCLUDED.role, request_id = EXCLUDED.request_id, granted_at = EXCLUDED.granted_at,
             expires_at = CASE WHEN g.expires_at IS NULL OR EXCLUDED.expires_at IS NULL THEN COALESCE(g.expires_at, EXCLUDED.expires_at) ELSE GREATEST(g.expires_at, EXCLUDED.expires_at) END`,
          [grantId, identityId, entitlement, source, role ?? null, requestId ?? null, grantedAt, expiresAt ?? null],
        );
        return;
      }
      case 'AccessExtended': {
        const { grantId, identityId, entitlement, requestId, expiresAt } = data as { grantId: string; identityId: string; entitlement: string; requestId: string; expiresAt: string };
        await tx.query(
          `INSERT INTO ${this.schema}.directory_grants AS g (grant_id, identity_id, entitlement, source, request_id, expires_at, revoked) VALUES ($1, $2, $3, 'request', $4, $5, false)
           ON CONFLICT (grant_id) DO UPDATE SET expires_at = GREATEST(g.expires_at, EXCLUDED.expires_at)`,
          [grantId, identityId, entitlement, requestId, expiresAt],
        );
        return;
      }
      case 'AccessRevoked': {
        const { grantId, identityId, entitlement, source } = data as { grantId: string; identityId: string; entitlement: string; source: string };
        await tx.query(
          `INSERT INTO ${this.schema}.directory_grants (grant_id, identity_id, entitlement, source, revoked) VALUES ($1, $2, $3, $4, true)
           ON CONFLICT (grant_id) DO UPDATE SET revoked = true`,
          [grantId, identityId, entitlement, source],
        );
        return;
      }
      default:
        return;
    }
  }

  async profile(identityId: string, x: SqlExecutor = this.db): Promise<IdentityProfile | undefined> {
    const { rows } = await x.query<{ profile: IdentityProfile | string }>(`SELECT profile FROM ${this.schema}.directory_identities WHERE identity_id = $1`, [identityId]);
    return rows[0] ? parse(rows[0].profile) : undefined;
  }

  async profiles(identityIds: readonly string[], x: SqlExecutor = this.db): Promise<Map<string, IdentityProfile>> {
    if (identityIds.length === 0) return new Map();
    const { rows } = await x.query<{ profile: IdentityProfile | string }>(`SELECT profile FROM ${this.schema}.directory_identities WHERE identity_id = ANY($1::text[])`, [[...new Set(identityIds)]]);
    return new Map(rows.map((r) => parse(r.profile)).map((p) => [p.identityId, p]));
  }

  async entitlement(key: string, x: SqlExecutor = this.db): Promise<CatalogEntitlement | undefined> {
    return (await this.entitlementRow(x, key))?.entitlement;
  }

  /** The grants each identity holds at `now` (not revoked, not past their end), by entitlement. */
  async currentAccess(identityIds: readonly string[], now: Date, x: SqlExecutor = this.db): Promise<Map<string, HeldGrant[]>> {
    const access = new Map<string, HeldGrant[]>(identityIds.map((id) => [id, []]));
    if (identityIds.length === 0) return access;
    const { rows } = await x.query<{
      grant_id: string;
      identity_id: string;
      entitlement: string;
      source: string;
      role: string | null;
      request_id: string | null;
      granted_at: Date | string | null;
      expires_at: Date | string | null;
    }>(
      `SELECT grant_id, identity_id, entitlement, source, role, request_id, granted_at, expires_at FROM ${this.schema}.directory_grants
       WHERE identity_id = ANY($1::text[]) AND NOT revoked AND (expires_at IS NULL OR expires_at > $2) ORDER BY identity_id, entitlement, grant_id`,
      [[...new Set(identityIds)], now],
    );
    for (const r of rows) {
      access.get(r.identity_id)?.push({
        grantId: r.grant_id,
        entitlement: r.entitlement,
        source: r.source,
        ...(r.role !== null && { role: r.role }),
        ...(r.request_id !== null && { requestId: r.request_id }),
        ...(r.granted_at !== null && { grantedAt: new Date(r.granted_at).toISOString() }),
        ...(r.expires_at !== null && { expiresAt: new Date(r.expires_at).toISOString() }),
      });
    }
    return access;
  }

  /** The entitlements of `keys` the catalog has and has not retired, in the order of `keys`. */
  async entitlements(keys: readonly string[], x: SqlExecutor = this.db): Promise<CatalogEntitlement[]> {
    if (keys.length === 0) return [];
    const { rows } = await x.query<{ definition: CatalogEntitlement | string }>(`SELECT definition FROM ${this.schema}.directory_entitlements WHERE key = ANY($1::text[]) AND NOT retired`, [[...new Set(keys)]]);
    const found = new Map(rows.map((r) => parse(r.definition)).map((entitlement) => [entitlement.key, entitlement]));
    return [...new Set(keys)].flatMap((key) => (found.has(key) ? [found.get(key)!] : []));
  }

  /** The identities holding `custos:security` through a grant not revoked. */
  async securityApprovers(x: SqlExecutor = this.db): Promise<string[]> {
    const { rows } = await x.query<{ identity_id: string }>(
      `SELECT DISTINCT identity_id FROM ${this.schema}.directory_security_grants WHERE NOT revoked ORDER BY identity_id`,
    );
    return rows.map((r) => r.identity_id);
  }

  private async entitlementRow(x: SqlExecutor, key: string): Promise<{ entitlement: CatalogEntitlement; version: number } | undefined> {
    const { rows } = await x.query<{ definition: CatalogEntitlement | string; version: number }>(`SELECT definition, version FROM ${this.schema}.directory_entitlements WHERE key = $1`, [key]);
    return rows[0] ? { entitlement: parse(rows[0].definition), version: rows[0].version } : undefined;
  }

  private async writeEntitlement(tx: SqlExecutor, entitlement: CatalogEntitlement, version: number): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.directory_entitlements (key, retired, definition, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET retired = EXCLUDED.retired, definition = EXCLUDED.definition, version = EXCLUDED.version
       WHERE ${this.schema}.directory_entitlements.version < EXCLUDED.version`,
      [entitlement.key, entitlement.retired, JSON.stringify(entitlement), version],
    );
  }
}


function parse<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
