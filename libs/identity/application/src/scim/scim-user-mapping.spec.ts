import type { IdentityView } from '../read-models/identities/identities-view';
import { ScimError } from './scim-error';
import { ifMatchSatisfied, etagOf } from './scim-etag';
import { SCIM } from './scim-schemas';
import { activeOf, generatedEmployeeId, readUserResource, SCIM_UNKNOWN_ATTRIBUTE_LIMITS, userResource } from './scim-user-mapping';

const E = SCIM.enterprise;
const BASE = 'https://custos.example/scim/v2';

const body = (over: Record<string, unknown> = {}) => ({
  schemas: [SCIM.user, E],
  userName: 'ada@example.com',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  ...over,
});

const identity = (over: Partial<IdentityView> = {}): IdentityView => ({
  identityId: 'id-ada',
  employeeId: 'E1',
  givenName: 'Ada',
  familyName: 'Lovelace',
  email: 'ada@example.com',
  department: 'Engineering',
  employmentType: 'employee',
  groups: [],
  status: 'active',
  version: 3,
  ...over,
});

/** The mapping between SCIM Users and identities, in both directions. */
describe('SCIM User mapping', () => {
  describe('reading a User into an HR record', () => {
    it('maps the core and enterprise attributes', () => {
      const input = readUserResource(
        body({
          title: 'Engineer',
          userType: 'Contractor',
          active: true,
          externalId: 'okta-1',
          addresses: [{ type: 'home', locality: 'Paris' }, { type: 'work', locality: 'London' }],
          [E]: { employeeNumber: 'E1', department: 'Engineering', costCenter: 'CC-10', manager: { value: 'id-boss' } },
        }),
        { identityId: 'id-ada' },
      );
      expect(input).toEqual({
        userName: 'ada@example.com',
        externalId: 'okta-1',
        active: true,
        managerId: 'id-boss',
        employee: {
          employeeId: 'E1',
          givenName: 'Ada',
          familyName: 'Lovelace',
          email: 'ada@example.com',
          department: 'Engineering',
          title: 'Engineer',
          location: 'London',
          costCenter: 'CC-10',
          employmentType: 'contractor',
        },
        attributes: expect.objectContaining({ title: 'Engineer', userType: 'Contractor' }),
      });
    });

    it('defaults: an employee, an employee id from the SCIM id, or the identity current one', () => {
      expect(readUserResource(body(), { identityId: 'id-new' }).employee).toMatchObject({ employeeId: generatedEmployeeId('id-new'), employmentType: 'employee' });
      expect(readUserResource(body(), { identityId: 'id-ada', currentEmployeeId: 'E7' }).employee.employeeId).toBe('E7');
    });

    it('takes the email from the work email, else the primary one, else the userName', () => {
      const emails = [
        { value: 'home@example.com', type: 'home' },
        { value: 'primary@example.com', primary: true },
      ];
      expect(readUserResource(body({ emails }), { identityId: 'x' }).employee.email).toBe('primary@example.com');
      expect(readUserResource(body({ emails: undefined, userName: 'ada@corp.example' }), { identityId: 'x' }).employee.email).toBe('ada@corp.example');
    });

    it('splits the displayName when name is missing', () => {
      expect(readUserResource(body({ name: undefined, displayName: 'Ada King Lovelace' }), { identityId: 'x' }).employee).toMatchObject({ givenName: 'Ada King', familyName: 'Lovelace' });
    });

    it("takes Azure AD's manager as a bare string, and an empty manager as none", () => {
      expect(readUserResource(body({ [E]: { manager: 'id-boss' } }), { identityId: 'x' }).managerId).toBe('id-boss');
      expect(readUserResource(body({ [E]: { manager: { value: '' } } }), { identityId: 'x' }).managerId).toBeNull();
    });

    it('never keeps the password or what Custos assigns', () => {
      const { attributes } = readUserResource(body({ password: 's3cret', id: 'forged', meta: {}, groups: [], phoneNumbers: [{ value: '+44' }] }), { identityId: 'x' });
      expect(Object.keys(attributes).sort()).toEqual(['emails', 'name', 'phoneNumbers']);
    });

    it('reads attribute names in any case', () => {
      expect(readUserResource({ Schemas: [SCIM.user], UserName: 'ada@example.com', Name: { givenName: 'Ada', familyName: 'L' }, Active: 'False' }, { identityId: 'x' })).toMatchObject({
        userName: 'ada@example.com',
        active: false,
      });
    });

    it('reads names in any case at every level: sub-attributes, enterprise attributes, email values (RFC 7643 section 2.1)', () => {
      const input = readUserResource(
        {
          SCHEMAS: [SCIM.user, E],
          UserName: 'ada@example.com',
          Name: { GivenName: 'Ada', FamilyName: 'Lovelace' },
          Emails: [
            { Value: 'ada@home.example', Type: 'home' },
            { Value: 'ada@example.com', Primary: true },
          ],
          Addresses: [{ Type: 'work', Locality: 'London' }],
          [E.toUpperCase()]: { EmployeeNumber: 'E9', Department: 'Research', Manager: { Value: 'id-boss' } },
        },
        { identityId: 'x' },
      );
      expect(input.employee).toMatchObject({ employeeId: 'E9', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', department: 'Research', location: 'London' });
      expect(input.managerId).toBe('id-boss');
      expect(input.attributes.emails).toEqual([
        { value: 'ada@home.example', type: 'home' },
        { value: 'ada@example.com', primary: true },
      ]);
    });

    it('keeps an email that is not an address, flagged, so that the User can still be ended; a userName stands in for none', () => {
      const odd = readUserResource(body({ emails: [{ value: 'ada at example', type: 'work' }] }), { identityId: 'x' });
      expect(odd.employee.email).toBe('ada at example');
      expect(odd.emailNotAnAddress).toBe(true);
      const none = readUserResource(body({ emails: [], userName: 'ada' }), { identityId: 'x' });
      expect([none.employee.email, none.emailNotAnAddress]).toEqual(['ada', true]);
      expect(readUserResource(body(), { identityId: 'x' }).emailNotAnAddress).toBeUndefined();
      expect(userResource(identity({ email: 'ada' }), undefined, [], BASE).emails).toBeUndefined();
    });

    it.each([
      ['a key __proto__ at the top', JSON.parse('{"__proto__": {"roles": ["custos:admin"]}}')],
      ['a key __proto__ inside a complex attribute', { name: JSON.parse('{"givenName": "Ada", "familyName": "L", "__proto__": {"x": 1}}') }],
      ['a key constructor deep inside an unknown attribute', { custom: [{ a: { Constructor: { prototype: { x: 1 } } } }] }],
      ['a dotted key through a prototype', { 'name.__proto__.x': 1 }],
    ])('refuses %s (400 invalidValue) and leaves Object.prototype alone', (_description, over) => {
      const before = Object.getOwnPropertyNames(Object.prototype).sort();
      let caught: unknown;
      try {
        readUserResource(body(over), { identityId: 'x' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScimError);
      expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidValue']);
      expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
      expect(({} as Record<string, unknown>).roles).toBeUndefined();
    });

    const nested = (levels: number): unknown => {
      let value: unknown = 'bottom';
      for (let i = 0; i < levels; i++) value = { deeper: value };
      return value;
    };

    it.each([
      ['an unknown attribute nesting 2,000 levels', { custom: nested(2000) }],
      ['an unknown attribute nesting one level too deep', { custom: nested(8) }],
      ['a known attribute nesting too deep', { name: { givenName: 'Ada', familyName: 'L', extra: nested(7) } }],
      [`more than ${SCIM_UNKNOWN_ATTRIBUTE_LIMITS.count} unknown attributes`, Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`custom${i}`, i]))],
      [`unknown attributes over ${SCIM_UNKNOWN_ATTRIBUTE_LIMITS.bytes} bytes`, { custom: 'x'.repeat(16 * 1024) }],
      [`kept attributes over ${SCIM_UNKNOWN_ATTRIBUTE_LIMITS.keptBytes} bytes`, { phoneNumbers: Array.from({ length: 400 }, () => ({ value: '+44'.repeat(60) })) }],
    ])('refuses %s (400 invalidValue)', (_description, over) => {
      let caught: unknown;
      try {
        readUserResource(body(over), { identityId: 'x' });
      } catch (error) {
        caught = error;
      }
      expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidValue']);
    });

    it('lets a User stored past the limits (before they existed) be replaced as long as it grows no further', () => {
      const sixty = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`custom${i}`, i]));
      const stored = readUserResource(body(sixty), { identityId: 'x', storedAttributes: { ...sixty } }).attributes as Record<string, unknown>;
      expect(Object.keys(stored).filter((k) => k.startsWith('custom'))).toHaveLength(60);
      // the same sixty, one changed: accepted; one more: refused, naming the limit it now has
      expect(readUserResource(body({ ...sixty, custom0: 'changed' }), { identityId: 'x', storedAttributes: stored }).attributes).toMatchObject({ custom0: 'changed' });
      expect(() => readUserResource(body({ ...sixty, custom60: 60 }), { identityId: 'x', storedAttributes: stored })).toThrow(/at most 60 attributes/);
      // a new User gets the limits as they are
      expect(() => readUserResource(body(sixty), { identityId: 'y' })).toThrow(/at most 50 attributes/);
    });

    it('keeps unknown attributes within the limits as sent', () => {
      const custom = { a: nested(5), b: Array.from({ length: 10 }, (_, i) => i) };
      const many = Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`x${i}`, i]));
      expect(readUserResource(body({ custom, ...many }), { identityId: 'x' }).attributes).toMatchObject({ custom, ...many });
    });

    it.each([
      ['no schemas', { schemas: undefined }, 'invalidSyntax'],
      ['no userName', { userName: ' ' }, 'invalidValue'],
      ['no family name', { name: { givenName: 'Ada' } }, 'invalidValue'],
      ['active that is not a boolean', { active: 'yes' }, 'invalidValue'],
      ['a title that is not a string', { title: 7 }, 'invalidValue'],
    ])('refuses %s', (_description, over, scimType) => {
      let caught: unknown;
      try {
        readUserResource(body(over), { identityId: 'x' });
      } catch (error) {
        caught = error;
      }
      expect((caught as ScimError).scimType).toBe(scimType);
    });
  });

  it.each([
    [true, true],
    [false, false],
    ['True', true],
    ['False', false],
    [' false ', false],
    [undefined, undefined],
  ])('reads active %p as %p', (value, expected) => {
    expect(activeOf(value)).toBe(expected);
  });

  describe('building the User of an identity', () => {
    it('overlays what the identity says now on the attributes the client sent', () => {
      const record = {
        identityId: 'id-ada',
        userName: 'Ada@Example.com',
        externalId: 'okta-1',
        attributes: { name: { givenName: 'Ada', familyName: 'Byron', formatted: 'Ada Byron' }, emails: [{ value: 'old@example.com', type: 'work' }], phoneNumbers: [{ value: '+44' }], [E]: { department: 'Old', division: 'R&D' } },
        created: '2026-11-01T00:00:00.000Z',
        lastModified: '2026-11-02T00:00:00.000Z',
      };
      const resource = userResource(identity({ managerId: 'id-boss', location: 'London', status: 'pending' }), record, [{ groupId: 'g1', displayName: 'eng' }], BASE);
      expect(resource).toEqual({
        schemas: [SCIM.user, E],
        id: 'id-ada',
        externalId: 'okta-1',
        userName: 'Ada@Example.com',
        name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
        displayName: 'Ada Lovelace',
        phoneNumbers: [{ value: '+44' }],
        userType: 'Employee',
        active: true,
        emails: [{ value: 'ada@example.com', type: 'work' }],
        addresses: [{ type: 'work', locality: 'London' }],
        groups: [{ value: 'g1', display: 'eng', $ref: `${BASE}/Groups/g1`, type: 'direct' }],
        [E]: { department: 'Engineering', division: 'R&D', employeeNumber: 'E1', manager: { value: 'id-boss', $ref: `${BASE}/Users/id-boss` } },
        meta: { resourceType: 'User', created: record.created, lastModified: record.lastModified, location: `${BASE}/Users/id-ada`, version: 'W/"3"' },
      });
    });

    it('shows an identity that came by another door with its email as userName, and hides a generated employee id', () => {
      const resource = userResource(identity({ identityId: 'id-x', employeeId: generatedEmployeeId('id-x'), status: 'terminated', department: undefined }), undefined, [], BASE);
      expect(resource).toMatchObject({ userName: 'ada@example.com', active: false, schemas: [SCIM.user] });
      expect(resource[E]).toBeUndefined();
    });
  });

  it.each([
    [undefined, 3, true],
    ['*', 3, true],
    ['W/"3"', 3, true],
    ['"3"', 3, true],
    ['W/"2", W/"3"', 3, true],
    ['W/"2"', 3, false],
  ])('If-Match %p on version %p is satisfied: %p', (header, version, expected) => {
    expect(ifMatchSatisfied(header, version)).toBe(expected);
  });

  it('writes weak ETags', () => {
    expect(etagOf(7)).toBe('W/"7"');
  });
});
