import { COMMON_ATTRIBUTES, type ScimAttribute, type ScimResourceSchema } from './scim-schemas';

type Resource = Record<string, unknown>;

/**
 * Attribute names are case-insensitive (RFC 7643 section 2.1): identity providers' validators
 * send `"Primary": true`, `"UserName"`, `"Emails": [{"Value": ...}]`. The door spells every name
 * the schemas define in the schemas' case before reading or patching, so that the rest of the
 * code (and scim-patch, which is case-sensitive) sees one spelling; names the schemas do not
 * define are kept as sent.
 */

function byName(attributes: ScimAttribute[]): Map<string, ScimAttribute> {
  return new Map(attributes.map((a) => [a.name.toLowerCase(), a]));
}

/** canonicalValue spells the sub-attribute names of a complex attribute's value (or of each of its values) in schema case. */
export function canonicalValue(value: unknown, definition: Pick<ScimAttribute, 'subAttributes'> | undefined): unknown {
  const subAttributes = definition?.subAttributes;
  if (!subAttributes || subAttributes.length === 0) return value;
  if (Array.isArray(value)) return value.map((item) => canonicalValue(item, definition));
  if (typeof value !== 'object' || value === null) return value;
  const known = byName(subAttributes);
  const out: Resource = {};
  for (const [key, child] of Object.entries(value)) {
    const attribute = known.get(key.toLowerCase());
    out[attribute?.name ?? key] = attribute ? canonicalValue(child, attribute) : child;
  }
  return out;
}

/**
 * canonicalResource spells a resource's attribute names (top level, sub-attributes, and the
 * attributes inside an extension) in schema case; `schemas`, the extension URNs and unknown
 * names keep their place.
 */
export function canonicalResource(resource: Resource, schema: ScimResourceSchema): Resource {
  const known = byName([...COMMON_ATTRIBUTES, ...schema.core.attributes]);
  const extensions = new Map(schema.extensions.map((e) => [e.id.toLowerCase(), e]));
  const out: Resource = {};
  for (const [key, value] of Object.entries(resource)) {
    const lower = key.toLowerCase();
    if (lower === 'schemas') {
      out.schemas = value;
      continue;
    }
    const extension = extensions.get(lower);
    if (extension) {
      out[extension.id] = canonicalValue(value, { subAttributes: extension.attributes });
      continue;
    }
    const attribute = known.get(lower);
    out[attribute?.name ?? key] = attribute ? canonicalValue(value, attribute) : value;
  }
  return out;
}

/**
 * canonicalFilterNames spells the attribute names of a filter inside a value path
 * (`emails[Type eq "work"]`) in schema case; quoted values are left alone.
 */
export function canonicalFilterNames(filter: string, subAttributes: ScimAttribute[]): string {
  const known = byName(subAttributes);
  return filter
    .split(/("(?:[^"\\]|\\.)*")/)
    .map((part, index) => (index % 2 === 1 ? part : part.replace(/[A-Za-z][A-Za-z0-9_$-]*/g, (name) => known.get(name.toLowerCase())?.name ?? name)))
    .join('');
}
