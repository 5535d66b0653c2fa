import type { IdentityView } from '../identities-view';
import { ScimError } from './scim-error';
import { ifMatchSatisfied, etagOf } from './scim-etag';
import { SCIM } from './scim-schemas';
import { activeOf, generatedEmployeeId, readUserResource, userResource } from './scim-user-mapping';

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

    it.each([
      ['no schemas', { schemas: undefined }, 'invalidSyntax'],
      ['no userName', { userName: ' ' }, 'invalidValue'],
      ['no family name', { name: { givenName: 'Ada' } }, 'invalidValue'],
      ['no email anywhere', { emails: [], userName: 'ada' }, 'invalidValue'],
      ['an email that is not one', { emails: [{ value: 'nope', type: 'work' }] }, 'invalidValue'],
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
