import { scimPatch, type ScimPatchOperation, type ScimResource } from 'scim-patch';
import { ScimError, type ScimType } from './scim-error';
import { COMMON_ATTRIBUTES, resolvePath, SCIM, type ScimAttribute, type ScimResourceSchema } from './scim-schemas';
import { canonicalFilterNames, canonicalValue } from './scim-canonical';
import { checkPath, checkUntrustedValue, SCIM_MAX_DEPTH } from './scim-untrusted';

type Resource = Record<string, unknown>;

export interface PatchOptions {
  /** Top-level attributes a client may not change (`groups` of a User): an operation on one is a mutability error. */
  readOnly?: string[];
  /** Rewrites an operation's value before it is applied (a Group reduces members to their `value`). */
  reduceValue?: (path: string, value: unknown) => unknown;
}

/** Attributes that a no-path value may repeat from the resource and that are then ignored. */
const IGNORED_IN_VALUE = new Set(['id', 'schemas', 'meta']);

/**
 * applyScimPatch applies a PatchOp body (RFC 7644 section 3.5.2) to a copy of a resource with
 * scim-patch, after making the dialects of identity providers RFC-shaped: `op` in any case
 * ("Replace"), attribute names in any case, and a no-path `value` split into one operation per
 * attribute, so that a complex attribute (`name`, the enterprise extension) is merged
 * sub-attribute by sub-attribute rather than replaced whole. Values are not type-checked here:
 * the caller maps the result and refuses what it cannot hold.
 *
 * scim-patch 0.8.3 (the newest published) walks paths and value keys by plain indexing, so
 * `__proto__.x`, `constructor.prototype.x` or `toString.x` write onto shared prototypes
 * (GHSA-9m6g-wc8r-q59c, GHSA-2mhw-wcx5-v3xj). Every path and every value key at any depth is
 * checked here first: a name that reaches a prototype or that JSON values inherit is refused
 * (invalidPath in a path, invalidValue in a value) before scim-patch sees the operation.
 */
export function applyScimPatch<T extends Resource>(resource: T, body: unknown, schema: ScimResourceSchema, options: PatchOptions = {}): T {
  const operations = normalizeOperations(body, schema, resource, options);
  try {
    return scimPatch(resource as unknown as ScimResource, operations, { mutateDocument: false, treatMissingAsAdd: true }) as unknown as T;
  } catch (error) {
    const scimCode = (error as { scimCode?: string }).scimCode as ScimType | undefined;
    throw new ScimError(400, scimCode ?? 'invalidSyntax', (error as Error).message);
  }
}

function normalizeOperations(body: unknown, schema: ScimResourceSchema, resource: Resource, options: PatchOptions): ScimPatchOperation[] {
  if (typeof body !== 'object' || body === null) throw ScimError.invalidSyntax('a PatchOp body is a JSON object');
  // The PatchOp envelope adds three levels (body, Operations, operation) above each value.
  checkUntrustedValue(body, 'the PatchOp body', { inherited: true, maxDepth: SCIM_MAX_DEPTH + 3 });
  const { schemas, Operations } = body as { schemas?: unknown; Operations?: unknown };
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === SCIM.patchOp.toLowerCase())) {
    throw ScimError.invalidSyntax(`schemas must contain ${SCIM.patchOp}`);
  }
  if (!Array.isArray(Operations) || Operations.length === 0) throw ScimError.invalidSyntax('Operations must be a non-empty array');
  return Operations.flatMap((operation: unknown, index) => {
    if (typeof operation !== 'object' || operation === null) throw ScimError.invalidSyntax(`Operations[${index}] is not an object`);
    const { op, path, value } = operation as { op?: unknown; path?: unknown; value?: unknown };
    const kind = typeof op === 'string' ? op.toLowerCase() : '';
    if (kind !== 'add' && kind !== 'remove' && kind !== 'replace') throw ScimError.invalidSyntax(`Operations[${index}].op must be add, remove or replace`);
    if (path !== undefined && path !== null && typeof path !== 'string') throw ScimError.invalidSyntax(`Operations[${index}].path must be a string`);
    if (typeof path === 'string') checkPath(path, { inherited: true });
    if (kind === 'remove' && !path) throw new ScimError(400, 'noTarget', `Operations[${index}]: remove needs a path`);
    if (kind !== 'remove' && value === undefined) throw ScimError.invalidSyntax(`Operations[${index}]: ${kind} needs a value`);
    if (!path) return expand(kind as 'add' | 'replace', value, schema, resource, options);
    return [operationFor(kind, path, value, schema, options)];
  });
}

/** One operation per attribute of a no-path value (or a value addressed to a whole schema). */
function expand(kind: 'add' | 'replace', value: unknown, schema: ScimResourceSchema, resource: Resource, options: PatchOptions, prefix = ''): ScimPatchOperation[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ScimError.invalidSyntax(`${kind} without a path needs an object value`);
  return Object.entries(value).flatMap(([key, v]) => {
    const lower = key.toLowerCase();
    if (!prefix && IGNORED_IN_VALUE.has(lower)) {
      if (lower === 'id' && v !== resource.id) throw ScimError.mutability('id cannot be changed');
      return [];
    }
    if (!prefix && lower === schema.core.id.toLowerCase()) return expand(kind, v, schema, resource, options);
    const extension = schema.extensions.find((e) => e.id.toLowerCase() === lower);
    if (!prefix && extension && typeof v === 'object' && v !== null && !Array.isArray(v)) return expand(kind, v, schema, resource, options, `${extension.id}:`);
    return [operationFor(kind, `${prefix}${key}`, v, schema, options)];
  });
}

function operationFor(kind: 'add' | 'remove' | 'replace', rawPath: string, value: unknown, schema: ScimResourceSchema, options: PatchOptions): ScimPatchOperation {
  checkPath(rawPath, { inherited: true });
  const path = canonicalPath(rawPath, schema);
  const top = path.replace(/^urn:.*:/i, '').split(/[.[]/)[0];
  if ((options.readOnly ?? []).some((name) => name.toLowerCase() === top.toLowerCase()) || ['id', 'meta'].includes(top.toLowerCase())) {
    throw ScimError.mutability(`${top} is read-only`);
  }
  const canonical = value === undefined ? value : canonicalValue(value, definitionOf(path, schema));
  const reduced = options.reduceValue && canonical !== undefined ? options.reduceValue(path, canonical) : canonical;
  return (kind === 'remove' ? { op: 'remove', path, ...(reduced !== undefined ? { value: reduced } : {}) } : { op: kind, path, value: reduced }) as ScimPatchOperation;
}

const SEGMENTS = /^([^.[\]]+)(\[.*\])?(?:\.([^.[\]]+))?$/;

/**
 * canonicalPath spells a PATCH path as the schema does: the core schema URN dropped, an
 * extension URN in its canonical case, attribute and sub-attribute names in their schema case
 * (`Active` becomes `active`); a filter inside brackets is kept as sent.
 */
export function canonicalPath(path: string, schema: ScimResourceSchema): string {
  let rest = path.trim();
  let prefix = '';
  let pool: ScimAttribute[] = [...COMMON_ATTRIBUTES, ...schema.core.attributes];
  const lower = rest.toLowerCase();
  if (lower.startsWith(`${schema.core.id.toLowerCase()}:`)) {
    rest = rest.slice(schema.core.id.length + 1);
  } else {
    const extension = schema.extensions.find((e) => lower === e.id.toLowerCase() || lower.startsWith(`${e.id.toLowerCase()}:`));
    if (extension) {
      if (lower === extension.id.toLowerCase()) return extension.id;
      prefix = `${extension.id}:`;
      rest = rest.slice(extension.id.length + 1);
      pool = extension.attributes;
    }
  }
  const match = SEGMENTS.exec(rest);
  if (!match) return `${prefix}${rest}`;
  const [, name, filter = '', sub] = match;
  const definition = pool.find((a) => a.name.toLowerCase() === name.toLowerCase());
  const canonicalName = definition?.name ?? name;
  const canonicalFilter = filter && definition?.subAttributes ? canonicalFilterNames(filter, definition.subAttributes) : filter;
  const canonicalSub = sub === undefined ? '' : `.${definition?.subAttributes?.find((a) => a.name.toLowerCase() === sub.toLowerCase())?.name ?? sub}`;
  return `${prefix}${canonicalName}${canonicalFilter}${canonicalSub}`;
}

/** The definition a (canonical) PATCH path targets; a whole extension reads as a complex attribute of its attributes. */
function definitionOf(path: string, schema: ScimResourceSchema): Pick<ScimAttribute, 'subAttributes'> | undefined {
  const withoutFilter = path.replace(/\[.*\]/, '');
  const extension = schema.extensions.find((e) => e.id === withoutFilter);
  if (extension) return { subAttributes: extension.attributes };
  return resolvePath(withoutFilter, schema).definition;
}
