import { resolvePath, type ScimResourceSchema } from './scim-schemas';
import { checkPath } from './scim-untrusted';

type Resource = Record<string, unknown>;

/** Inside a multi-valued attribute, sub-attribute names stand alone. */
const NO_SCHEMA: ScimResourceSchema = { core: { id: '', name: '', description: '', attributes: [] }, extensions: [] };

/** The comma-separated attribute list of `attributes` / `excludedAttributes`, empty entries dropped; a name that reaches a prototype is refused (invalidPath). */
export function attributeList(value: string | undefined): string[] {
  const names = (value ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0);
  names.forEach((name) => checkPath(name));
  return names;
}

/**
 * projectAttributes applies `attributes` (only these, plus what is always returned) or
 * `excludedAttributes` (all but these) of RFC 7644 section 3.4.2.5. `schemas` and `id` are
 * always returned; names are case-insensitive and may carry their schema URN.
 */
export function projectAttributes(resource: Resource, schema: ScimResourceSchema, options: { attributes?: string[]; excludedAttributes?: string[] }): Resource {
  const attributes = options.attributes ?? [];
  const excluded = options.excludedAttributes ?? [];
  if (attributes.length > 0) {
    const projected: Resource = { schemas: resource.schemas, id: resource.id };
    for (const path of attributes) copyPath(resource, projected, path, schema);
    return withoutUndefined(projected);
  }
  if (excluded.length > 0) {
    const projected = structuredClone(resource);
    for (const path of excluded) deletePath(projected, path, schema);
    return projected;
  }
  return resource;
}

function keyOf(target: Resource, name: string): string | undefined {
  return Object.keys(target).find((k) => k.toLowerCase() === name.toLowerCase());
}

function copyPath(from: Resource, to: Resource, path: string, schema: ScimResourceSchema): void {
  const { extension, names } = resolvePath(path, schema);
  let source: unknown = from;
  let target: Resource = to;
  const steps = extension ? [extension, ...names] : names;
  for (let i = 0; i < steps.length; i++) {
    if (typeof source !== 'object' || source === null) return;
    const key = keyOf(source as Resource, steps[i]);
    if (key === undefined) return;
    const value = (source as Resource)[key];
    const last = i === steps.length - 1;
    if (last) {
      target[key] = structuredClone(value);
      return;
    }
    if (Array.isArray(value)) {
      // A sub-attribute of a multi-valued attribute: that sub-attribute of every value.
      const rest = steps.slice(i + 1);
      const existing = Array.isArray(target[key]) ? (target[key] as Resource[]) : value.map(() => ({}));
      value.forEach((item, index) => {
        if (typeof item === 'object' && item !== null) copyPath(item as Resource, (existing[index] ??= {}), rest.join('.'), NO_SCHEMA);
      });
      target[key] = existing;
      return;
    }
    target[key] ??= {};
    target = target[key] as Resource;
    source = value;
  }
}

function deletePath(target: Resource, path: string, schema: ScimResourceSchema): void {
  const { extension, names } = resolvePath(path, schema);
  const steps = extension ? [extension, ...names] : names;
  if (steps.length === 0) return;
  if (steps.length === 1 && ['id', 'schemas'].includes(steps[0].toLowerCase())) return;
  let current: unknown[] = [target];
  for (let i = 0; i < steps.length; i++) {
    const next: unknown[] = [];
    for (const item of current) {
      if (typeof item !== 'object' || item === null) continue;
      const key = keyOf(item as Resource, steps[i]);
      if (key === undefined) continue;
      if (i === steps.length - 1) delete (item as Resource)[key];
      else {
        const value = (item as Resource)[key];
        next.push(...(Array.isArray(value) ? value : [value]));
      }
    }
    current = next;
  }
}

function withoutUndefined(resource: Resource): Resource {
  return Object.fromEntries(Object.entries(resource).filter(([, v]) => v !== undefined));
}
