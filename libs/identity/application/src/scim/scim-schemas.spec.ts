import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, SCIM, schemaResource, scimBaseUrl, USER_SCHEMA } from './scim-schemas';

const BASE = scimBaseUrl('https://custos.example');

type Attribute = Record<string, unknown> & { name: string; subAttributes?: Attribute[] };

const CHARACTERISTICS = ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness'];

function everyAttribute(attributes: Attribute[], parent = ''): [string, Attribute][] {
  return attributes.flatMap((a) => [[`${parent}${a.name}`, a] as [string, Attribute], ...everyAttribute(a.subAttributes ?? [], `${parent}${a.name}.`)]);
}

/** The schema representations of /Schemas (RFC 7643 sections 7 and 8.7), as identity providers' validators read them. */
describe('SCIM schemas', () => {
  it.each([
    ['User', USER_SCHEMA],
    ['EnterpriseUser', ENTERPRISE_USER_SCHEMA],
    ['Group', GROUP_SCHEMA],
  ])('describes every attribute of %s with every characteristic', (name, schema) => {
    const resource = schemaResource(schema, BASE);
    expect(resource).toMatchObject({ schemas: [SCIM.schema], id: schema.id, name, description: expect.any(String), meta: { resourceType: 'Schema', location: `${BASE}/Schemas/${schema.id}` } });
    for (const [path, attribute] of everyAttribute(resource.attributes as Attribute[])) {
      expect([path, CHARACTERISTICS.filter((c) => !Object.hasOwn(attribute, c))]).toEqual([path, []]);
      expect([path, attribute.type]).toEqual([path, expect.stringMatching(/^(string|boolean|decimal|integer|dateTime|reference|binary|complex)$/)]);
      expect([path, attribute.mutability]).toEqual([path, expect.stringMatching(/^(readOnly|readWrite|immutable|writeOnly)$/)]);
      expect([path, attribute.returned]).toEqual([path, expect.stringMatching(/^(always|never|default|request)$/)]);
      expect([path, attribute.uniqueness]).toEqual([path, expect.stringMatching(/^(none|server|global)$/)]);
      if (attribute.type === 'complex') expect([path, (attribute.subAttributes ?? []).length > 0]).toEqual([path, true]);
      else expect([path, attribute.subAttributes]).toEqual([path, undefined]);
      if (attribute.type === 'reference') expect([path, attribute.referenceTypes]).toEqual([path, expect.arrayContaining([expect.any(String)])]);
    }
  });

  it('describes the attributes RFC 7643 section 4.1 gives a User, and the members of a Group with their display', () => {
    const names = USER_SCHEMA.attributes.map((a) => a.name);
    expect(names).toEqual(
      expect.arrayContaining(['userName', 'name', 'displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone', 'active', 'password', 'emails', 'phoneNumbers', 'ims', 'photos', 'addresses', 'groups', 'entitlements', 'roles', 'x509Certificates']),
    );
    const members = GROUP_SCHEMA.attributes.find((a) => a.name === 'members');
    expect(members?.subAttributes?.map((a) => a.name)).toEqual(expect.arrayContaining(['value', '$ref', 'display', 'type']));
  });

  it('takes the base URL from the configured public URL, with or without a trailing slash', () => {
    expect(scimBaseUrl('https://custos.example/')).toBe('https://custos.example/scim/v2');
    expect(scimBaseUrl('http://localhost:3000')).toBe('http://localhost:3000/scim/v2');
  });
});
