import { ScimError } from './scim-error';
import { applyScimPatch, canonicalPath } from './scim-patch';
import { GROUP_RESOURCE, SCIM, USER_RESOURCE } from './scim-schemas';

const E = SCIM.enterprise;

const user = () => ({
  schemas: [SCIM.user, E],
  id: 'id-ada',
  userName: 'ada@example.com',
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  active: true,
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  [E]: { department: 'Engineering', employeeNumber: 'E1' },
  meta: { resourceType: 'User', version: 'W/"1"' },
});

const patch = (...Operations: object[]) => ({ schemas: [SCIM.patchOp], Operations });
const apply = (...operations: object[]) => applyScimPatch(user(), patch(...operations), USER_RESOURCE, { readOnly: ['groups'] }) as Record<string, any>;

/** PATCH in the dialects of Okta and Azure AD (RFC 7644 section 3.5.2), applied with scim-patch. */
describe('SCIM PATCH', () => {
  it('replaces an enterprise attribute by its full path (Azure AD)', () => {
    expect(apply({ op: 'Replace', path: `${E}:department`, value: 'Research' })[E]).toEqual({ department: 'Research', employeeNumber: 'E1' });
  });

  it('replaces attributes without a path (Okta), merging complex attributes rather than replacing them', () => {
    const patched = apply({ op: 'replace', value: { name: { givenName: 'Augusta' }, [E]: { costCenter: 'CC-1' }, title: 'Countess' } });
    expect(patched.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(patched[E]).toEqual({ department: 'Engineering', employeeNumber: 'E1', costCenter: 'CC-1' });
    expect(patched.title).toBe('Countess');
  });

  it('takes a no-path value keyed by a full attribute URN', () => {
    expect(apply({ op: 'replace', value: { [`${E}:department`]: 'Sales', active: false } })).toMatchObject({ active: false, [E]: { department: 'Sales' } });
  });

  it('keeps Azure AD\'s "False" as sent (the mapping reads it) and finds attributes in any case', () => {
    expect(apply({ op: 'Replace', path: 'Active', value: 'False' }).active).toBe('False');
  });

  it('adds to a filtered multi-valued attribute, creating the value when none matches', () => {
    const patched = apply({ op: 'add', path: 'emails[type eq "home"].value', value: 'ada@home.example' });
    expect(patched.emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
      { type: 'home', value: 'ada@home.example' },
    ]);
  });

  it('replaces a sub-attribute of the value a filter selects', () => {
    expect(apply({ op: 'replace', path: 'emails[type eq "work"].value', value: 'lovelace@example.com' }).emails[0].value).toBe('lovelace@example.com');
  });

  it('treats a replace whose eq filter selects nothing as an add (Azure AD sets a first work phone that way)', () => {
    expect(apply({ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+44 20' }).phoneNumbers).toEqual([{ type: 'work', value: '+44 20' }]);
  });

  it('removes an attribute', () => {
    expect(apply({ op: 'remove', path: `${E}:department` })[E]).toEqual({ employeeNumber: 'E1' });
  });

  it('ignores id, schemas and meta repeated in a no-path value', () => {
    expect(apply({ op: 'replace', value: { id: 'id-ada', schemas: [SCIM.user], title: 'x' } }).title).toBe('x');
  });

  it.each([
    ['a body without the PatchOp schema', { Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, 'invalidSyntax'],
    ['no operations', patch(), 'invalidSyntax'],
    ['an unknown op', patch({ op: 'move', path: 'title', value: 'x' }), 'invalidSyntax'],
    ['a remove without a path', patch({ op: 'remove' }), 'noTarget'],
    ['an add without a value', patch({ op: 'add', path: 'title' }), 'invalidSyntax'],
    ['a change of id', patch({ op: 'replace', path: 'id', value: 'other' }), 'mutability'],
    ['a change of a read-only attribute', patch({ op: 'add', path: 'groups', value: [{ value: 'g' }] }), 'mutability'],
    ['a replace whose (non-eq) filter selects nothing', patch({ op: 'replace', path: 'emails[type sw "oth"].display', value: 'x' }), 'noTarget'],
  ])('refuses %s', (_description, body, scimType) => {
    let caught: unknown;
    try {
      applyScimPatch(user(), body, USER_RESOURCE, { readOnly: ['groups'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScimError);
    expect((caught as ScimError).scimType).toBe(scimType);
  });

  it('adds and removes Group members by value, whatever else the client sends with them', () => {
    const group = { schemas: [SCIM.group], id: 'g1', displayName: 'eng', members: [{ value: 'a' }], meta: {} };
    const reduceValue = (path: string, value: unknown) =>
      path.startsWith('members') && Array.isArray(value) ? value.map((m: { value: string }) => ({ value: m.value })) : value;
    const added = applyScimPatch(group, patch({ op: 'Add', path: 'members', value: [{ value: 'b', display: 'Bob' }] }), GROUP_RESOURCE, { reduceValue }) as any;
    expect(added.members).toEqual([{ value: 'a' }, { value: 'b' }]);
    const removedByFilter = applyScimPatch(added, patch({ op: 'remove', path: 'members[value eq "a"]' }), GROUP_RESOURCE, { reduceValue }) as any;
    expect(removedByFilter.members).toEqual([{ value: 'b' }]);
    const removedByValue = applyScimPatch(added, patch({ op: 'Remove', path: 'members', value: [{ value: 'b', display: 'Bob' }] }), GROUP_RESOURCE, { reduceValue }) as any;
    expect(removedByValue.members).toEqual([{ value: 'a' }]);
    expect(group.members).toEqual([{ value: 'a' }]);
  });

  it('spells paths as the schema does', () => {
    expect(canonicalPath('NAME.GIVENNAME', USER_RESOURCE)).toBe('name.givenName');
    expect(canonicalPath(`${SCIM.user}:UserName`, USER_RESOURCE)).toBe('userName');
    expect(canonicalPath(`${E.toUpperCase()}:Manager.Value`, USER_RESOURCE)).toBe(`${E}:manager.value`);
    expect(canonicalPath('Emails[type eq "work"].Value', USER_RESOURCE)).toBe('emails[type eq "work"].value');
  });
});
