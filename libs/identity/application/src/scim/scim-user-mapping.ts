import type { EmployeeRecord } from '@custos/identity/contracts';
import type { IdentityView } from '../read-models/identities/identities-view';
import { ScimError } from './scim-error';
import { etagOf } from './scim-etag';
import { canonicalResource } from './scim-canonical';
import { COMMON_ATTRIBUTES, SCIM, USER_RESOURCE, USER_SCHEMA } from './scim-schemas';
import { checkUntrustedValue, isForbiddenName } from './scim-untrusted';

type Resource = Record<string, unknown>;

/** What the SCIM door keeps of a User beside the identity (the `scim_users` row). */
export interface ScimUserRecord {
  identityId: string;
  userName: string;
  externalId?: string;
  /** The client's other attributes, kept as sent so that they read back (never the password). */
  attributes: Resource;
  created: string;
  lastModified: string;
}

/** A Group the user belongs to, for the User's read-only `groups`. */
export interface ScimGroupRef {
  groupId: string;
  displayName: string;
}

/** A User as a client sent it (POST, PUT, or the result of a PATCH), read into Custos terms. */
export interface ScimUserInput {
  userName: string;
  externalId?: string;
  /** Absent when the client did not say. */
  active?: boolean;
  /** The HR record without the manager, whom SCIM names by identity id. */
  employee: Omit<EmployeeRecord, 'managerEmployeeId'>;
  /** The manager's identity id (`manager.value`); null when the client removed the manager. */
  managerId: string | null;
  /** The attributes to keep beside the identity. */
  attributes: Resource;
  /** Set when the email the identity gets is not an address (kept all the same, so that the User can still be a leaver). */
  emailNotAnAddress?: true;
}

/** Attributes that Custos assigns or never keeps: not stored among the client's attributes. */
const NOT_STORED = new Set(['id', 'meta', 'groups', 'password', 'schemas', 'username', 'externalid']);
const EMAIL = /^[^@\s]+@[^@\s]+$/;

/**
 * What the door keeps of attributes that no schema defines. They are kept as sent so that they
 * read back (identity providers compare what they read with what they sent, and re-send forever
 * when a value was dropped), so a client that sends more is refused (400 invalidValue) rather
 * than silently trimmed: depth is bounded for every attribute (SCIM_MAX_DEPTH), the unknown ones
 * by count and size, and all kept attributes together by size.
 */
export const SCIM_UNKNOWN_ATTRIBUTE_LIMITS = { count: 50, bytes: 16 * 1024, keptBytes: 64 * 1024 } as const;

const DEFINED = new Set([...COMMON_ATTRIBUTES, ...USER_SCHEMA.attributes].map((a) => a.name.toLowerCase()).concat('schemas', ...USER_RESOURCE.extensions.map((e) => e.id.toLowerCase())));

/** generatedEmployeeId is the employee id of a SCIM user sent without an employeeNumber: derived from the SCIM id. */
export function generatedEmployeeId(identityId: string): string {
  return `scim-${identityId}`;
}

/**
 * readUserResource maps a SCIM User onto an HR record. The mapping:
 *
 * | identity (EmployeeRecord) | SCIM User |
 * | --- | --- |
 * | identityId | `id` (assigned by Custos) |
 * | employeeId | enterprise `employeeNumber`; else the identity's current one; else `scim-<id>` (not shown as employeeNumber) |
 * | givenName, familyName | `name.givenName`, `name.familyName` (else split from `displayName`); required |
 * | email | `emails` value of type work, else the primary one, else the first; else `userName`; kept even when it is not an address (flagged: `emailNotAnAddress`) |
 * | department, costCenter | enterprise `department`, `costCenter` |
 * | managerEmployeeId | enterprise `manager.value` = the manager's identity id (Azure AD's bare string too), resolved to their employee id |
 * | title | `title` |
 * | location | `locality` of the work (else primary, else first) address |
 * | employmentType | `userType` "Contractor" (any case) is a contractor; anything else, or none, an employee |
 * | status | `active` (boolean, or Azure AD's "True"/"False"): false is a leaver, true on a terminated identity a rehire; a pending joiner reads as active |
 *
 * `userName` (unique, case-insensitive) and `externalId` are kept by the SCIM door, as are the
 * client's other attributes (phone numbers, display name, ...) so that they read back;
 * `password` is dropped and never stored. Attribute names are read in any case (RFC 7643
 * section 2.1); what is kept is bounded by SCIM_MAX_DEPTH and SCIM_UNKNOWN_ATTRIBUTE_LIMITS.
 */
export function readUserResource(body: unknown, context: { identityId: string; currentEmployeeId?: string; storedAttributes?: Resource }): ScimUserInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ScimError.invalidSyntax('a User is a JSON object');
  checkUntrustedValue(body, 'the User');
  const user = canonicalResource(body as Resource, USER_RESOURCE);
  const schemas = user.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM.user.toLowerCase())) {
    throw ScimError.invalidSyntax(`schemas must contain ${SCIM.user}`);
  }
  const userName = requiredString(user.userName, 'userName').trim();
  const externalId = optionalString(user.externalId, 'externalId');
  const name = objectOr(user.name, 'name');
  const displayName = optionalString(user.displayName, 'displayName');
  const [fromDisplayGiven, fromDisplayFamily] = splitName(displayName);
  const givenName = nonBlank(optionalString(name.givenName, 'name.givenName')) ?? fromDisplayGiven;
  const familyName = nonBlank(optionalString(name.familyName, 'name.familyName')) ?? fromDisplayFamily;
  if (!givenName || !familyName) throw ScimError.invalidValue('name.givenName and name.familyName are required');
  const email = emailOf(user.emails, userName);
  const enterprise = objectOr(user[SCIM.enterprise], SCIM.enterprise);
  const employeeNumber = nonBlank(optionalString(enterprise.employeeNumber, 'employeeNumber'));
  const employee: Omit<EmployeeRecord, 'managerEmployeeId'> = withoutAbsent({
    employeeId: employeeNumber ?? context.currentEmployeeId ?? generatedEmployeeId(context.identityId),
    givenName,
    familyName,
    email,
    department: nonBlank(optionalString(enterprise.department, 'department')),
    title: nonBlank(optionalString(user.title, 'title')),
    location: locationOf(user.addresses),
    costCenter: nonBlank(optionalString(enterprise.costCenter, 'costCenter')),
    employmentType: employmentTypeOf(optionalString(user.userType, 'userType')),
  });
  const attributes = Object.fromEntries(Object.entries(user).filter(([key]) => !NOT_STORED.has(key.toLowerCase())));
  checkKept(attributes, context.storedAttributes);
  return withoutAbsent({
    userName,
    externalId: nonBlank(externalId),
    active: activeOf(user.active),
    employee,
    managerId: managerIdOf(enterprise.manager),
    attributes,
    emailNotAnAddress: EMAIL.test(email) ? undefined : true,
  }) as ScimUserInput;
}

/** activeOf reads `active` as a boolean, also Azure AD's "True" / "False" strings. */
export function activeOf(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw ScimError.invalidValue(`active must be a boolean, got ${JSON.stringify(value)}`);
}

/**
 * userResource builds the SCIM User of an identity: the client's kept attributes, overlaid
 * with what the identity says now (HR may have changed it through another door since).
 */
export function userResource(identity: IdentityView, record: ScimUserRecord | undefined, groups: ScimGroupRef[], baseUrl: string): Resource {
  const stored = structuredClone(record?.attributes ?? {}) as Resource;
  const storedName = objectOrEmpty(stored.name);
  const sameName = storedName.givenName === identity.givenName && storedName.familyName === identity.familyName;
  const name = withoutAbsent({
    ...storedName,
    formatted: sameName && typeof storedName.formatted === 'string' ? storedName.formatted : `${identity.givenName} ${identity.familyName}`,
    givenName: identity.givenName,
    familyName: identity.familyName,
  });
  const enterprise = withoutAbsent({
    ...objectOrEmpty(stored[SCIM.enterprise]),
    employeeNumber: identity.employeeId === generatedEmployeeId(identity.identityId) ? undefined : identity.employeeId,
    department: identity.department,
    costCenter: identity.costCenter,
    manager: identity.managerId ? { value: identity.managerId, $ref: `${baseUrl}/Users/${identity.managerId}` } : undefined,
  });
  const storedType = typeof stored.userType === 'string' ? stored.userType : undefined;
  const userType = storedType && employmentTypeOf(storedType) === identity.employmentType ? storedType : identity.employmentType === 'contractor' ? 'Contractor' : 'Employee';
  const resource: Resource = {
    schemas: Object.keys(enterprise).length > 0 ? [SCIM.user, SCIM.enterprise] : [SCIM.user],
    id: identity.identityId,
    externalId: record?.externalId,
    userName: record?.userName ?? identity.email,
    name,
    displayName: typeof stored.displayName === 'string' ? stored.displayName : `${identity.givenName} ${identity.familyName}`,
  };
  // A record stored before names were checked may hold one that reaches a prototype: never copied.
  for (const [key, value] of Object.entries(stored)) {
    if (!Object.hasOwn(resource, key) && key !== SCIM.enterprise && !isForbiddenName(key)) resource[key] = value;
  }
  Object.assign(resource, {
    title: identity.title,
    userType,
    // A pending joiner is hired (their start date is ahead): active, so that echoing it back never ends them.
    active: identity.status !== 'terminated',
    emails: emailsWith(stored.emails, identity.email),
    addresses: addressesWith(stored.addresses, identity.location),
    groups: groups.length > 0 ? groups.map((g) => ({ value: g.groupId, display: g.displayName, $ref: `${baseUrl}/Groups/${g.groupId}`, type: 'direct' })) : undefined,
    [SCIM.enterprise]: Object.keys(enterprise).length > 0 ? enterprise : undefined,
    meta: withoutAbsent({
      resourceType: 'User',
      created: record?.created,
      lastModified: record?.lastModified,
      location: `${baseUrl}/Users/${identity.identityId}`,
      version: etagOf(identity.version),
    }),
  });
  return withoutAbsent(resource);
}

/** The email slot of a list of emails: the work one, else the primary, else the first. */
function emailSlot(emails: Resource[]): number {
  const work = emails.findIndex((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work');
  if (work >= 0) return work;
  const primary = emails.findIndex((e) => activeOfLenient(e.primary));
  return primary >= 0 ? primary : emails.length > 0 ? 0 : -1;
}

/**
 * An email value SHOULD be an address (RFC 7643 section 4.1.2) but need not be, and the identity
 * domain takes any text: a value that is not one is kept rather than refused, because refusing
 * the User would leave an identity that can never be ended by its identity provider.
 */
function emailOf(value: unknown, userName: string): string {
  const emails = arrayOfObjects(value, 'emails');
  const slot = emailSlot(emails);
  return nonBlank(slot >= 0 ? optionalString(emails[slot].value, 'emails.value') : undefined) ?? userName;
}

/** How much a User's kept attributes hold: those the User schemas do not define (count, bytes), and all of them (bytes). */
function measureKept(attributes: Resource): { count: number; bytes: number; keptBytes: number } {
  const unknown = Object.entries(attributes).filter(([key]) => !DEFINED.has(key.toLowerCase()));
  return { count: unknown.length, bytes: Buffer.byteLength(JSON.stringify(Object.fromEntries(unknown))), keptBytes: Buffer.byteLength(JSON.stringify(attributes)) };
}

/**
 * Refuses unknown attributes beyond SCIM_UNKNOWN_ATTRIBUTE_LIMITS (depth is checked on the whole
 * User before). A User stored before the limits existed (`stored`) may be replaced or patched as
 * long as it grows no further past them: each limit is then what it already holds.
 */
function checkKept(attributes: Resource, stored?: Resource): void {
  const now = measureKept(attributes);
  const before = stored ? measureKept(stored) : { count: 0, bytes: 0, keptBytes: 0 };
  const count = Math.max(SCIM_UNKNOWN_ATTRIBUTE_LIMITS.count, before.count);
  const bytes = Math.max(SCIM_UNKNOWN_ATTRIBUTE_LIMITS.bytes, before.bytes);
  const keptBytes = Math.max(SCIM_UNKNOWN_ATTRIBUTE_LIMITS.keptBytes, before.keptBytes);
  if (now.count > count) throw ScimError.invalidValue(`at most ${count} attributes that the User schemas do not define are kept, got ${now.count}`);
  if (now.bytes > bytes) throw ScimError.invalidValue(`the attributes that the User schemas do not define take more than ${bytes} bytes`);
  if (now.keptBytes > keptBytes) throw ScimError.invalidValue(`the User's attributes take more than ${keptBytes} bytes`);
}

function emailsWith(value: unknown, email: string): Resource[] | undefined {
  const emails = Array.isArray(value) ? (value.filter((e) => typeof e === 'object' && e !== null) as Resource[]) : [];
  const slot = emailSlot(emails);
  // A userName that is not an address stood in for a missing email: not shown as one.
  if (slot < 0) return EMAIL.test(email) ? [{ value: email, type: 'work', primary: true }] : undefined;
  emails[slot] = { ...emails[slot], value: email };
  return emails;
}

function addressSlot(addresses: Resource[]): number {
  const work = addresses.findIndex((a) => typeof a.type === 'string' && a.type.toLowerCase() === 'work');
  if (work >= 0) return work;
  const primary = addresses.findIndex((a) => activeOfLenient(a.primary));
  return primary >= 0 ? primary : addresses.length > 0 ? 0 : -1;
}

function locationOf(value: unknown): string | undefined {
  const addresses = arrayOfObjects(value, 'addresses');
  const slot = addressSlot(addresses);
  return slot >= 0 ? nonBlank(optionalString(addresses[slot].locality, 'addresses.locality')) : undefined;
}

function addressesWith(value: unknown, location: string | undefined): Resource[] | undefined {
  const addresses = Array.isArray(value) ? (value.filter((a) => typeof a === 'object' && a !== null) as Resource[]) : [];
  const slot = addressSlot(addresses);
  if (slot < 0) return location ? [{ type: 'work', locality: location }] : undefined;
  addresses[slot] = withoutAbsent({ ...addresses[slot], locality: location });
  return addresses;
}

function managerIdOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') return value.trim() || null;
  if (typeof value === 'object' && !Array.isArray(value)) {
    const id = (value as Resource).value;
    if (id === undefined || id === null || id === '') return null;
    if (typeof id === 'string') return id.trim() || null;
  }
  throw ScimError.invalidValue('manager must be {"value": "<manager User id>"}');
}

function employmentTypeOf(userType: string | undefined): EmployeeRecord['employmentType'] {
  return userType?.trim().toLowerCase() === 'contractor' ? 'contractor' : 'employee';
}

function splitName(displayName: string | undefined): [string | undefined, string | undefined] {
  const parts = displayName?.trim().split(/\s+/) ?? [];
  if (parts.length < 2) return [undefined, undefined];
  return [parts.slice(0, -1).join(' '), parts[parts.length - 1]];
}

function activeOfLenient(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

function requiredString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw ScimError.invalidValue(`${what} is required`);
  if (value.length > 256) throw ScimError.invalidValue(`${what} is longer than 256 characters`);
  return value;
}

function optionalString(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw ScimError.invalidValue(`${what} must be a string`);
  if (value.length > 256) throw ScimError.invalidValue(`${what} is longer than 256 characters`);
  return value;
}

function nonBlank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function objectOr(value: unknown, what: string): Resource {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw ScimError.invalidValue(`${what} must be an object`);
  return value as Resource;
}

function objectOrEmpty(value: unknown): Resource {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Resource) : {};
}

function arrayOfObjects(value: unknown, what: string): Resource[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) throw ScimError.invalidValue(`${what} must be an array of objects`);
  return value as Resource[];
}

function withoutAbsent<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
