import { projectAttributes } from './scim-attributes';
import { ScimError } from './scim-error';
import { checkListQuery, listResponse } from './scim-list';
import { SCIM, USER_RESOURCE } from './scim-schemas';

const E = SCIM.enterprise;

const users = Array.from({ length: 5 }, (_, i) => ({
  schemas: [SCIM.user, E],
  id: `id-${i + 1}`,
  userName: `user${i + 1}@example.com`,
  name: { givenName: `User${i + 1}`, familyName: 'Test' },
  emails: [{ value: `user${i + 1}@example.com`, type: 'work' }],
  [E]: { department: i % 2 === 0 ? 'Engineering' : 'Sales' },
  meta: { resourceType: 'User', version: 'W/"1"' },
}));

/** List answers: filter, pagination and attribute projection (RFC 7644 section 3.4.2). */
describe('SCIM list', () => {
  it('answers a ListResponse with the total of the filter and one page', () => {
    const answer = listResponse(users, { filter: `${E}:department eq "Engineering"`, startIndex: '2', count: '1' }, USER_RESOURCE);
    expect(answer).toEqual({ schemas: [SCIM.listResponse], totalResults: 3, startIndex: 2, itemsPerPage: 1, Resources: [users[2]] });
  });

  it('counts startIndex below 1 as 1 and count 0 as "just the total"', () => {
    expect(listResponse(users, { startIndex: '-3', count: '0' }, USER_RESOURCE)).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('refuses a count that is not a number', () => {
    expect(() => listResponse(users, { count: 'ten' }, USER_RESOURCE)).toThrow(ScimError);
  });

  it('returns only the attributes asked for, with id and schemas always', () => {
    expect(projectAttributes(users[0], USER_RESOURCE, { attributes: ['userName', 'name.givenName', `${E}:department`, 'emails.value'] })).toEqual({
      schemas: users[0].schemas,
      id: 'id-1',
      userName: 'user1@example.com',
      name: { givenName: 'User1' },
      emails: [{ value: 'user1@example.com' }],
      [E]: { department: 'Engineering' },
    });
  });

  it('drops excluded attributes, in any case, but never id', () => {
    const projected = projectAttributes(users[0], USER_RESOURCE, { excludedAttributes: ['EMAILS', 'meta', 'id', E] });
    expect(Object.keys(projected).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    expect(users[0].emails).toHaveLength(1);
  });

  it.each([
    ['a filter on __proto__', { filter: '__proto__.roles pr' }],
    ['a filter on constructor, in another case', { filter: 'userName eq "a" or Constructor.prototype.x eq "b"' }],
    ['a filter inside a value path', { filter: 'emails[__proto__ eq "x"]' }],
    ['attributes naming __proto__', { attributes: 'userName,__proto__.roles' }],
    ['excludedAttributes naming prototype', { excludedAttributes: 'constructor.prototype' }],
  ])('refuses %s (400 invalidPath) before any resource is read', (_description, query) => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    for (const attempt of [() => checkListQuery(query, USER_RESOURCE), () => listResponse(users, query, USER_RESOURCE)]) {
      let caught: unknown;
      try {
        attempt();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScimError);
      expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidPath']);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
  });

  it('filters and projects with attribute names in any case', () => {
    const answer = listResponse(users, { filter: 'Emails[Type eq "work" and Value sw "user2"] and UserName pr', attributes: 'UserName,Name.GivenName' }, USER_RESOURCE);
    expect(answer.Resources).toEqual([{ schemas: users[1].schemas, id: 'id-2', userName: 'user2@example.com', name: { givenName: 'User2' } }]);
  });
});
