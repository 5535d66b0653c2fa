import { ScimError } from './scim-error';
import { matchesFilter, parseScimFilter } from './scim-filter';
import { GROUP_RESOURCE, SCIM, USER_RESOURCE } from './scim-schemas';

const ada = {
  schemas: [SCIM.user, SCIM.enterprise],
  id: 'id-ada',
  externalId: 'Okta-1',
  userName: 'Ada@Example.com',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  title: 'Engineer',
  active: true,
  emails: [
    { value: 'ada@example.com', type: 'work', primary: true },
    { value: 'ada@home.example', type: 'home' },
  ],
  [SCIM.enterprise]: { department: 'Engineering', employeeNumber: 'E1', manager: { value: 'id-boss' } },
  meta: { resourceType: 'User', lastModified: '2026-11-20T10:00:00Z', version: 'W/"3"' },
};

const match = (filter: string, resource: object = ada) => matchesFilter(resource, parseScimFilter(filter, USER_RESOURCE), USER_RESOURCE);

/** Filters of RFC 7644 section 3.4.2.2 over a User, as identity providers send them. */
describe('SCIM filter', () => {
  it.each([
    ['userName eq, case-insensitive (userName is not caseExact)', 'userName eq "ada@example.com"', true],
    ['operators in any case', 'userName EQ "ADA@EXAMPLE.COM"', true],
    ['externalId eq is case-sensitive (caseExact)', 'externalId eq "okta-1"', false],
    ['externalId eq exact', 'externalId eq "Okta-1"', true],
    ['ne', 'userName ne "bob@example.com"', true],
    ['co', 'name.familyName co "love"', true],
    ['sw', 'userName sw "ada@"', true],
    ['ew', 'userName ew "@example.com"', true],
    ['pr on a present attribute', 'title pr', true],
    ['pr on an absent attribute', 'nickName pr', false],
    ['gt on a dateTime compares instants', 'meta.lastModified gt "2026-11-20T09:00:00+00:00"', true],
    ['lt on a dateTime', 'meta.lastModified lt "2026-11-20T09:00:00Z"', false],
    ['ge and le on strings', 'userName ge "ada" and userName le "b"', true],
    ['boolean eq', 'active eq true', true],
    ['value path', 'emails[type eq "work"]', true],
    ['value path with and inside', 'emails[type eq "home" and value ew "@home.example"]', true],
    ['value path that no value matches', 'emails[type eq "other"]', false],
    ['value path then sub-attribute', 'emails[type eq "work"].value eq "ada@example.com"', true],
    ['multi-valued complex attribute compares its values', 'emails co "@home"', true],
    ['sub-attribute of a multi-valued attribute', 'emails.value eq "ADA@HOME.EXAMPLE"', true],
    ['enterprise attribute by its URN', `${SCIM.enterprise}:department eq "engineering"`, true],
    ['enterprise complex sub-attribute', `${SCIM.enterprise}:manager.value eq "id-boss"`, true],
    ['core attribute by its URN', `${SCIM.user}:userName eq "ada@example.com"`, true],
    ['and', 'userName eq "ada@example.com" and title eq "Engineer"', true],
    ['or', 'userName eq "bob@example.com" or title eq "engineer"', true],
    ['not', 'not (title eq "Engineer")', false],
    ['precedence: and binds tighter than or', 'title eq "x" and userName pr or active eq true', true],
    ['an attribute the schema does not define matches nothing', 'favouriteColour eq "blue"', false],
  ])('%s: %s', (_description, filter, expected) => {
    expect(match(filter)).toBe(expected);
  });

  it.each([
    ['a missing value', 'userName eq'],
    ['an unknown operator', 'userName is "x"'],
    ['an unclosed parenthesis', '(userName eq "x"'],
    ['trailing garbage', 'userName eq "x" garbage'],
    ['ordering on a boolean', 'active gt true'],
  ])('refuses %s with invalidFilter', (_description, filter) => {
    expect(() => parseScimFilter(filter, USER_RESOURCE)).toThrow(ScimError);
    try {
      parseScimFilter(filter, USER_RESOURCE);
    } catch (error) {
      expect((error as ScimError).scimType).toBe('invalidFilter');
      expect((error as ScimError).httpStatus).toBe(400);
    }
  });

  it('matches a Group by a member, as Azure AD checks membership', () => {
    const group = { schemas: [SCIM.group], id: 'g1', displayName: 'eng', members: [{ value: 'id-ada' }, { value: 'id-bob' }] };
    const filter = parseScimFilter('id eq "g1" and members[value eq "id-bob"]', GROUP_RESOURCE);
    expect(matchesFilter(group, filter, GROUP_RESOURCE)).toBe(true);
    expect(matchesFilter(group, parseScimFilter('members[value eq "ID-BOB"]', GROUP_RESOURCE), GROUP_RESOURCE)).toBe(false);
  });
});
