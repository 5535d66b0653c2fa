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

  describe('refuses names that reach a prototype before scim-patch sees them (400), leaving Object.prototype alone', () => {
    const prototypeNames = () => Object.getOwnPropertyNames(Object.prototype).sort();
    const builtins = () => [Object.prototype.toString, Array.prototype.map, String.prototype.trim].map((f) => Object.getOwnPropertyNames(f).sort());
    let before: { names: string[]; builtins: string[][] };
    beforeEach(() => {
      before = { names: prototypeNames(), builtins: builtins() };
    });
    afterEach(() => {
      expect(({} as Record<string, unknown>).roles).toBeUndefined();
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(prototypeNames()).toEqual(before.names);
      expect(builtins()).toEqual(before.builtins);
    });

    it.each([
      ['__proto__.roles', 'add'],
      ['__PROTO__.roles', 'add'],
      ['constructor.prototype.roles', 'add'],
      ['name.__proto__.roles', 'replace'],
      ['Name.Constructor.prototype.polluted', 'replace'],
      [`${E}:__proto__.roles`, 'add'],
      ['emails[type eq "work"].__proto__', 'add'],
      ['emails[__proto__ eq "x"].value', 'add'],
      ['toString.polluted', 'add'],
      ['emails.map.polluted', 'add'],
      ['userName.trim.polluted', 'replace'],
      ['__proto__.toString', 'remove'],
    ])('a path %s (%s): invalidPath', (path, op) => {
      let caught: unknown;
      try {
        apply({ op, path, value: ['custos:admin'] });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScimError);
      expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidPath']);
    });

    it.each([
      ['a no-path value keyed __proto__', { op: 'add', value: JSON.parse('{"__proto__": {"roles": ["custos:admin"]}}') }],
      ['a no-path value keyed with a dotted prototype path', { op: 'add', value: { '__proto__.roles': ['custos:admin'] } }],
      ['a no-path value keyed constructor', { op: 'replace', value: { constructor: { prototype: { roles: ['custos:admin'] } } } }],
      ['a no-path value keyed toString.x (an inherited built-in)', { op: 'add', value: { 'toString.polluted': 'x' } }],
      ['a value key deep inside a complex value', { op: 'replace', path: 'name', value: { givenName: 'A', 'x.__proto__.roles': ['custos:admin'] } }],
      ['a value key inside a multi-valued value', { op: 'add', path: 'emails', value: [JSON.parse('{"value": "a@b.c", "__proto__": {"polluted": 1}}')] }],
      ['a value key naming an inherited property inside an extension', { op: 'add', path: E, value: { 'valueOf.polluted': 1 } }],
      ['a key beside the operations', JSON.parse('{"op": "add", "path": "title", "value": "x", "__proto__": {"polluted": 1}}')],
    ])('%s: invalidValue', (_description, operation) => {
      let caught: unknown;
      try {
        apply(operation);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ScimError);
      expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidValue']);
    });

    it('still takes a value that compares with such a word ("__proto__" in quotes is a value, not a name)', () => {
      expect(apply({ op: 'add', path: 'emails[type eq "__proto__"].value', value: 'x@example.com' }).emails).toContainEqual({ type: '__proto__', value: 'x@example.com' });
    });
  });

  it('refuses a value nesting deeper than a resource may (400 invalidValue)', () => {
    let value: unknown = 'x';
    for (let i = 0; i < 2000; i++) value = { deeper: value };
    let caught: unknown;
    try {
      apply({ op: 'add', path: 'custom', value });
    } catch (error) {
      caught = error;
    }
    expect([(caught as ScimError).httpStatus, (caught as ScimError).scimType]).toEqual([400, 'invalidValue']);
  });

  it('reads names in any case inside values and value-path filters (RFC 7643 section 2.1)', () => {
    const added = apply({ op: 'add', path: 'Emails', value: [{ Value: 'ada@home.example', Type: 'home', Primary: false }] });
    expect(added.emails).toContainEqual({ value: 'ada@home.example', type: 'home', primary: false });
    const merged = apply({ op: 'replace', path: 'NAME', value: { GivenName: 'Augusta' } });
    expect(merged.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace' });
    expect(apply({ op: 'replace', path: 'emails[Type eq "work"].Value', value: 'lovelace@example.com' }).emails[0].value).toBe('lovelace@example.com');
    expect(apply({ op: 'replace', value: { [E.toUpperCase()]: { Department: 'Sales' } } })[E]).toEqual({ department: 'Sales', employeeNumber: 'E1' });
  });

  it('spells paths as the schema does', () => {
    expect(canonicalPath('NAME.GIVENNAME', USER_RESOURCE)).toBe('name.givenName');
    expect(canonicalPath(`${SCIM.user}:UserName`, USER_RESOURCE)).toBe('userName');
    expect(canonicalPath(`${E.toUpperCase()}:Manager.Value`, USER_RESOURCE)).toBe(`${E}:manager.value`);
    expect(canonicalPath('Emails[type eq "work"].Value', USER_RESOURCE)).toBe('emails[type eq "work"].value');
    expect(canonicalPath('Emails[TYPE eq "Work" and Primary eq true]', USER_RESOURCE)).toBe('emails[type eq "Work" and primary eq true]');
  });
});
