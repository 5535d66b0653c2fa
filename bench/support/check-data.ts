/**
 * The check benchmark's data set, generated deterministically from an identity's index: the
 * seeder, the Cerbos request builder and the expected decisions all derive from the same
 * function, so the benchmark never holds a million grants outside the systems it measures.
 *
 * Per identity: GRANTS_PER_IDENTITY distinct entitlements out of a catalog of
 * APPS x PERMISSIONS keys (`app-042:write`): six birthright grants from its department's pool
 * (role, rule, reason `joiner`) and four requested ones from the whole catalog, of which some
 * are time-limited (a few already past their end, never revoked: the expiry job has not run)
 * and the others permanent. TERMINATED_SHARE of the identities are terminated (AccessTerminated
 * after their grants, no revocations yet).
 */
import type { Grant } from '../../libs/entitlement/contracts/src/access-events';
import { seededRandom } from '../../libs/platform/testing/src/random';

export const GRANTS_PER_IDENTITY = 10;
const BIRTHRIGHT_PER_IDENTITY = 6;
const APPS = 200;
const PERMISSIONS = ['read', 'write', 'admin', 'deploy', 'billing'] as const;
const DEPARTMENTS = 20;
const DEPARTMENT_POOL = 24;
export const TERMINATED_SHARE = 0.03;
/** Of the requested grants: time-limited ones, and of those, the share already past their end. */
const TIMED_SHARE = 0.3;
const PAST_SHARE = 0.33;
/** A time-limited grant that ended: 30 days after it was given, long before now. */
const PAST_DAYS = 30;
const FUTURE_END = '2099-12-31T00:00:00.000Z';
const JUSTIFICATIONS = [
  'Quarter-end close: need to reconcile the vendor invoices',
  'On-call rotation for the payments platform',
  'Migrating the reporting jobs to the new cluster (OPS-4711)',
  'Customer escalation, ticket SUP-20931',
];

export const CATALOG: readonly string[] = Array.from({ length: APPS * PERMISSIONS.length }, (_, i) => {
  const app = Math.floor(i / PERMISSIONS.length);
  return `app-${String(app).padStart(3, '0')}:${PERMISSIONS[i % PERMISSIONS.length]}`;
});

export interface SeedIdentity {
  index: number;
  id: string;
  grants: Grant[];
  terminated: boolean;
}

const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0').slice(-width);

/** A UUID-shaped id, unique per (kind, index): identity ids and command ids look like the real ones. */
export function uuidOf(kind: number, index: number): string {
  const r = seededRandom(index * 7919 + kind * 104_729);
  const a = Math.floor(r() * 0xffffffff);
  const b = Math.floor(r() * 0xffff);
  return `${hex(a, 8)}-${hex(b, 4)}-4${hex(kind, 3)}-8${hex(index >>> 24, 3)}-${hex(index, 12)}`;
}

export function identityId(index: number): string {
  return uuidOf(1, index);
}

/** The identity at `index`, the same on every call and every run. */
export function identityAt(index: number): SeedIdentity {
  const r = seededRandom(index + 1);
  const id = identityId(index);
  const department = index % DEPARTMENTS;
  const role = `dept-${department}-member`;
  const ruleKey = `birthright-dept-${department}`;
  const hiredAt = new Date(Date.UTC(2024, 0, 1) + Math.floor(r() * 600) * 86_400_000 + 9 * 3_600_000).toISOString();
  const joinCommand = uuidOf(2, index);
  const taken = new Set<string>();
  const grants: Grant[] = [];
  while (grants.length < BIRTHRIGHT_PER_IDENTITY) {
    const entitlement = CATALOG[(department * DEPARTMENT_POOL * 7 + Math.floor(r() * DEPARTMENT_POOL) * 7) % CATALOG.length];
    if (taken.has(entitlement)) continue;
    taken.add(entitlement);
    grants.push({ grantId: `${joinCommand}:${ruleKey}:${role}:${entitlement}`, entitlement, source: 'birthright', role, ruleKey, grantedAt: hiredAt, reason: 'joiner' });
  }
  for (let k = 0; grants.length < GRANTS_PER_IDENTITY; k++) {
    const entitlement = CATALOG[Math.floor(r() * CATALOG.length)];
    if (taken.has(entitlement)) continue;
    taken.add(entitlement);
    const command = uuidOf(3 + grants.length, index);
    const grantedAt = new Date(Date.parse(hiredAt) + (k + 1) * 7 * 86_400_000).toISOString();
    const timed = r() < TIMED_SHARE;
    const grant: Grant = {
      grantId: `${command}:${entitlement}`,
      entitlement,
      source: 'request',
      requestId: uuidOf(20 + grants.length, index),
      grantedAt,
      reason: JUSTIFICATIONS[Math.floor(r() * JUSTIFICATIONS.length)],
    };
    if (timed) grant.expiresAt = r() < PAST_SHARE ? new Date(Date.parse(grantedAt) + PAST_DAYS * 86_400_000).toISOString() : FUTURE_END;
    grants.push(grant);
  }
  return { index, id, grants, terminated: r() < TERMINATED_SHARE };
}

/** The events of the identity's access stream, as the access decider would have written them. */
export function accessEventsOf(identity: SeedIdentity): Array<{ name: string; data: unknown; time: string; actor: string }> {
  const events = identity.grants.map((grant) => ({
    name: 'AccessGranted',
    data: { ...grant, identityId: identity.id },
    time: grant.grantedAt,
    actor: grant.source === 'birthright' ? 'system:birthright' : 'system:request-fulfilment',
  }));
  if (identity.terminated) {
    const at = '2026-06-30T17:00:00.000Z';
    return [...events, { name: 'AccessTerminated', data: { identityId: identity.id, at }, time: at, actor: 'hr:workday' }];
  }
  return events;
}

export type ExpectedReason = 'granted' | 'terminated' | 'expired' | 'not-granted';

/** Why the data set allows or denies a check: Custos must give this reason. */
export function expectedReason(identity: SeedIdentity | undefined, entitlement: string, nowMs: number): ExpectedReason {
  if (!identity) return 'not-granted';
  if (identity.terminated) return 'terminated';
  const held = identity.grants.filter((g) => g.entitlement === entitlement);
  if (held.length === 0) return 'not-granted';
  return held.some((g) => g.expiresAt === undefined || Date.parse(g.expiresAt) > nowMs) ? 'granted' : 'expired';
}

/** The decision the data set implies: what both Custos and Cerbos must answer. */
export function expectedAllowed(identity: SeedIdentity | undefined, entitlement: string, nowMs: number): boolean {
  return expectedReason(identity, entitlement, nowMs) === 'granted';
}

export interface CheckQuery {
  /** Index of the identity, or -1 for an identity id that has no access stream. */
  index: number;
  identityId: string;
  entitlement: string;
}

/**
 * `count` checks over `identities`: half ask for an entitlement the identity was granted
 * (so expiry and termination decide), the rest for any catalog entry; 1% name an unknown identity.
 */
export function checkQueries(count: number, identities: number, seed: number): CheckQuery[] {
  const r = seededRandom(seed);
  const queries: CheckQuery[] = [];
  for (let q = 0; q < count; q++) {
    if (r() < 0.01) {
      queries.push({ index: -1, identityId: uuidOf(99, q), entitlement: CATALOG[Math.floor(r() * CATALOG.length)] });
      continue;
    }
    const identity = identityAt(Math.floor(r() * identities));
    const entitlement = r() < 0.5 ? identity.grants[Math.floor(r() * identity.grants.length)].entitlement : CATALOG[Math.floor(r() * CATALOG.length)];
    queries.push({ index: identity.index, identityId: identity.id, entitlement });
  }
  return queries;
}
