/** URNs of RFC 7643 / 7644 that the SCIM door speaks. */
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
} as const;

/** scimBaseUrl is where the SCIM door's links point: the configured public URL (never a request's Host header) and `/scim/v2`. */
export function scimBaseUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/scim/v2`;
}

/** The most resources one list answer holds (ServiceProviderConfig `filter.maxResults`). */
export const SCIM_MAX_RESULTS = 1000;

/** One attribute definition as RFC 7643 section 7 describes it (the /Schemas representation). */
export interface ScimAttribute {
  name: string;
  type: 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';
  multiValued: boolean;
  description: string;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  subAttributes?: ScimAttribute[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

export interface ScimSchemaDefinition {
  id: string;
  name: string;
  description: string;
  attributes: ScimAttribute[];
}

/** A resource type: its core schema and the extensions it may carry. */
export interface ScimResourceSchema {
  core: ScimSchemaDefinition;
  extensions: ScimSchemaDefinition[];
}

function attr(name: string, description: string, options: Partial<Omit<ScimAttribute, 'name' | 'description'>> = {}): ScimAttribute {
  return {
    name,
    type: 'string',
    multiValued: false,
    description,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...options,
  };
}

function multiValued(name: string, description: string, subAttributes: ScimAttribute[], options: Partial<ScimAttribute> = {}): ScimAttribute {
  return attr(name, description, { type: 'complex', multiValued: true, subAttributes, ...options });
}

const typedValue = (what: string, canonicalValues: string[], value: Partial<ScimAttribute> = {}) => [
  attr('value', what, value),
  attr('display', 'A human-readable name, primarily used for display purposes.', { mutability: 'readOnly' }),
  attr('type', 'A label indicating the function.', { canonicalValues }),
  attr('primary', 'Whether this is the preferred value.', { type: 'boolean' }),
];

/** id, externalId and meta: on every resource (RFC 7643 section 3.1). */
export const COMMON_ATTRIBUTES: ScimAttribute[] = [
  attr('id', 'Unique identifier assigned by the service provider: the Custos identity id for Users.', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', "The provisioning client's identifier for the resource.", { caseExact: true }),
  attr('meta', 'Resource metadata.', {
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'The resource type.', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'When the resource was added to the service provider.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('lastModified', 'When the resource was last changed through SCIM.', { type: 'dateTime', mutability: 'readOnly' }),
      attr('location', 'The URI of the resource.', { type: 'reference', caseExact: true, mutability: 'readOnly', referenceTypes: ['uri'] }),
      attr('version', 'Weak entity tag: the identity stream version for Users.', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

export const USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM.user,
  name: 'User',
  description: 'User account: a Custos identity',
  attributes: [
    attr('userName', 'Unique identifier for the User, case-insensitive.', { required: true, uniqueness: 'server' }),
    attr('name', "The components of the user's name; givenName and familyName are required by Custos.", {
      type: 'complex',
      subAttributes: [
        attr('formatted', 'The full name.'),
        attr('familyName', 'The family name (required by Custos).'),
        attr('givenName', 'The given name (required by Custos).'),
        attr('middleName', 'The middle name(s).'),
        attr('honorificPrefix', 'The honorific prefix(es).'),
        attr('honorificSuffix', 'The honorific suffix(es).'),
      ],
    }),
    attr('displayName', 'The name of the User, suitable for display.'),
    attr('nickName', 'The casual way to address the user.'),
    attr('profileUrl', "A URI of the user's online profile.", { type: 'reference', referenceTypes: ['external'] }),
    attr('title', "The user's title, such as 'Vice President'."),
    attr('userType', "The relationship with the organisation: 'Contractor' makes a contractor, anything else an employee.", {
      canonicalValues: ['Employee', 'Contractor'],
    }),
    attr('preferredLanguage', "The user's preferred written or spoken language."),
    attr('locale', "The user's default location for localisation."),
    attr('timezone', "The user's time zone (IANA)."),
    attr('active', "The user's administrative status: false is a leaver, true on a terminated user a rehire.", { type: 'boolean' }),
    attr('password', 'Not stored by Custos.', { mutability: 'writeOnly', returned: 'never' }),
    multiValued('emails', "Email addresses; the work (else primary, else first) one is the identity's email.", typedValue('Email address.', ['work', 'home', 'other'])),
    multiValued('phoneNumbers', 'Phone numbers.', typedValue('Phone number.', ['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
    multiValued('ims', 'Instant messaging addresses.', typedValue('Instant messaging address.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'])),
    multiValued('photos', 'URLs of photos.', typedValue('URL of a photo.', ['photo', 'thumbnail'], { type: 'reference', referenceTypes: ['external'] })),
    multiValued('addresses', "Physical addresses; the work (else primary) address's locality is the identity's location.", [
      attr('formatted', 'The full mailing address.'),
      attr('streetAddress', 'The street address.'),
      attr('locality', 'The city or locality.'),
      attr('region', 'The state or region.'),
      attr('postalCode', 'The zip or postal code.'),
      attr('country', 'The country (ISO 3166-1 alpha-2).'),
      attr('type', 'A label indicating the function.', { canonicalValues: ['work', 'home', 'other'] }),
      attr('primary', 'Whether this is the preferred address.', { type: 'boolean' }),
    ]),
    multiValued(
      'groups',
      'Groups the user belongs to (managed through /Groups).',
      [
        attr('value', 'The id of the Group.', { mutability: 'readOnly' }),
        attr('$ref', 'The URI of the Group.', { type: 'reference', mutability: 'readOnly', referenceTypes: ['Group'] }),
        attr('display', 'The displayName of the Group.', { mutability: 'readOnly' }),
        attr('type', "'direct'.", { mutability: 'readOnly', canonicalValues: ['direct', 'indirect'] }),
      ],
      { mutability: 'readOnly' },
    ),
    multiValued('entitlements', 'Entitlements as the client states them (Custos grants come from /access).', typedValue('The entitlement.', [])),
    multiValued('roles', 'Roles as the client states them.', typedValue('The role.', [])),
    multiValued('x509Certificates', 'DER-encoded X.509 certificates (base64), kept as sent.', typedValue('A certificate (base64).', [], { type: 'binary', caseExact: true })),
  ],
};

export const ENTERPRISE_USER_SCHEMA: ScimSchemaDefinition = {
  id: SCIM.enterprise,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    attr('employeeNumber', "The HR system's employee id; immutable once the identity has one.", { mutability: 'readWrite' }),
    attr('costCenter', 'The cost centre.'),
    attr('organization', 'The organisation.'),
    attr('division', 'The division.'),
    attr('department', 'The department.'),
    attr('manager', "The user's manager.", {
      type: 'complex',
      subAttributes: [
        attr('value', "The manager's User id (a Custos identity id).", { caseExact: true }),
        attr('$ref', "The URI of the manager's User resource.", { type: 'reference', referenceTypes: ['User'] }),
        attr('displayName', "The manager's display name.", { mutability: 'readOnly' }),
      ],
    }),
  ],
};

export const GROUP_SCHEMA: ScimSchemaDefinition = {
  id: SCIM.group,
  name: 'Group',
  description: "Group: its displayName becomes an attribute ('groups') of each member identity.",
  attributes: [
    attr('displayName', 'A human-readable name for the Group, unique (case-insensitive).', { required: true, uniqueness: 'server' }),
    multiValued('members', 'A list of members of the Group (Users only).', [
      attr('value', 'The id of the member User.', { caseExact: true, mutability: 'immutable' }),
      attr('$ref', 'The URI of the member.', { type: 'reference', mutability: 'immutable', referenceTypes: ['User'] }),
      attr('display', 'A human-readable name of the member.', { mutability: 'readOnly' }),
      attr('type', "The type of member: 'User'.", { mutability: 'immutable', canonicalValues: ['User'] }),
    ]),
  ],
};

export const USER_RESOURCE: ScimResourceSchema = { core: USER_SCHEMA, extensions: [ENTERPRISE_USER_SCHEMA] };
export const GROUP_RESOURCE: ScimResourceSchema = { core: GROUP_SCHEMA, extensions: [] };

/** A resolved attribute path: which schema, and the attribute names from the top down. */
export interface ResolvedPath {
  /** The extension URN when the path names an extension attribute; undefined for core and common attributes. */
  extension?: string;
  names: string[];
  definition?: ScimAttribute;
}

/**
 * resolvePath splits an attribute path (`name.givenName`, `urn:...:enterprise:2.0:User:manager.value`,
 * a URN alone) and finds its definition, case-insensitively; `definition` is undefined for an unknown attribute.
 */
export function resolvePath(path: string, resource: ScimResourceSchema, within?: ScimAttribute): ResolvedPath {
  if (within) {
    const names = path.split('.');
    return { names, definition: findIn(within.subAttributes ?? [], names) };
  }
  const lower = path.toLowerCase();
  const schemas = [resource.core, ...resource.extensions];
  for (const schema of schemas) {
    const urn = schema.id.toLowerCase();
    if (lower === urn) return { extension: schema === resource.core ? undefined : schema.id, names: [] };
    if (lower.startsWith(`${urn}:`)) {
      const names = path.slice(urn.length + 1).split('.');
      const pool = schema === resource.core ? [...COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes;
      return { extension: schema === resource.core ? undefined : schema.id, names, definition: findIn(pool, names) };
    }
  }
  const names = path.split('.');
  return { names, definition: findIn([...COMMON_ATTRIBUTES, ...resource.core.attributes], names) };
}

function findIn(attributes: ScimAttribute[], names: string[]): ScimAttribute | undefined {
  let pool = attributes;
  let found: ScimAttribute | undefined;
  for (const name of names) {
    found = pool.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!found) return undefined;
    pool = found.subAttributes ?? [];
  }
  return found;
}

/**
 * The representation of one attribute in /Schemas (RFC 7643 section 7): every characteristic,
 * `referenceTypes` on references, `canonicalValues` where there are some, `subAttributes` on
 * complex attributes.
 */
function attributeRepresentation(attribute: ScimAttribute): Record<string, unknown> {
  return {
    name: attribute.name,
    type: attribute.type,
    multiValued: attribute.multiValued,
    description: attribute.description,
    required: attribute.required,
    caseExact: attribute.caseExact,
    mutability: attribute.mutability,
    returned: attribute.returned,
    uniqueness: attribute.uniqueness,
    ...(attribute.canonicalValues && attribute.canonicalValues.length > 0 ? { canonicalValues: attribute.canonicalValues } : {}),
    ...(attribute.type === 'reference' ? { referenceTypes: attribute.referenceTypes ?? ['external'] } : {}),
    ...(attribute.type === 'complex' ? { subAttributes: (attribute.subAttributes ?? []).map(attributeRepresentation) } : {}),
  };
}

/** The /Schemas representation of a schema definition (RFC 7643 section 8.7). */
export function schemaResource(schema: ScimSchemaDefinition, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCIM.schema],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(attributeRepresentation),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

/** The resource types this door serves, as /ResourceTypes shows them. */
export function resourceTypes(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      schemas: [SCIM.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User account: a Custos identity (joiner, mover, leaver)',
      schema: SCIM.user,
      schemaExtensions: [{ schema: SCIM.enterprise, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [SCIM.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group: an identity attribute that birthright rules match',
      schema: SCIM.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

/** What this service provider supports (RFC 7643 section 5). */
export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCIM.serviceProviderConfig],
    documentationUri: `${baseUrl.replace(/\/scim\/v2$/, '')}/docs`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'A bearer token (JWT) from the configured OIDC issuer carrying role custos:hr or custos:admin',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}
