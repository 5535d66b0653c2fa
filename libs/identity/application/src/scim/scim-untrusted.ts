import { ScimError } from './scim-error';

/**
 * Names that reach an object's prototype rather than an attribute. No SCIM schema defines them;
 * a library that walks a path by plain indexing (scim-patch does) writes onto `Object.prototype`
 * through them, so the SCIM door refuses them in any case before any library sees them.
 */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Names that objects, arrays and strings parsed from JSON inherit (`toString`, `valueOf`, `map`,
 * `hasOwnProperty`, ...). scim-patch 0.8.3 follows an inherited property as if it were an
 * attribute (`schema[key] || (schema[key] = {})`, `key in obj`), so a PATCH path or a PATCH value
 * key such as `toString.x` or `emails.map.x` writes onto a shared built-in function. Matched
 * exactly, as JavaScript looks them up; `length` is left out because arrays and strings own it.
 */
const INHERITED = new Set(
  [Object.prototype, Array.prototype, String.prototype, Number.prototype, Boolean.prototype]
    .flatMap((proto) => Object.getOwnPropertyNames(proto))
    .filter((name) => name !== 'length'),
);

/** The most levels of objects and arrays a SCIM resource or PATCH value may nest (a User needs 3: `emails[0].value`). */
export const SCIM_MAX_DEPTH = 8;

/** isForbiddenName tells a name that reaches a prototype (`__proto__`, `constructor`, `prototype`, any case). */
export function isForbiddenName(name: string): boolean {
  return FORBIDDEN.has(name.toLowerCase());
}

/**
 * attributeNamesIn lists the names a path or a key spells, outside quoted strings: `emails[type eq
 * "work"].value` gives emails, type, eq, value; an extension URN gives its parts. What a filter
 * compares with (`"__proto__"` in quotes) is a value, not a name.
 */
export function attributeNamesIn(text: string): string[] {
  return text
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .split(/[^A-Za-z0-9_$-]+/)
    .filter((name) => name !== '');
}

/**
 * checkPath refuses a path that names a prototype (400 invalidPath); with `inherited`, also one
 * that names a property JSON values inherit, for paths that scim-patch walks.
 */
export function checkPath(path: string, options: { inherited?: boolean } = {}): void {
  for (const name of attributeNamesIn(path)) {
    if (isForbiddenName(name) || (options.inherited && INHERITED.has(name))) {
      throw new ScimError(400, 'invalidPath', `${JSON.stringify(path)}: ${JSON.stringify(name)} is not an attribute name`);
    }
  }
}

/**
 * checkUntrustedValue walks a value sent by a client (iteratively: a deep one cannot exhaust the
 * stack) and refuses, with 400 invalidValue, a key at any depth that names a prototype (with
 * `inherited`, also one JSON values inherit, for values that scim-patch walks) and nesting deeper
 * than `maxDepth` levels of objects and arrays. Keys are checked name by name, since scim-patch
 * splits `name.givenName` and URN keys into paths.
 */
export function checkUntrustedValue(value: unknown, what: string, options: { inherited?: boolean; maxDepth?: number } = {}): void {
  const maxDepth = options.maxDepth ?? SCIM_MAX_DEPTH;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, depth } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= maxDepth) throw ScimError.invalidValue(`${what} nests deeper than ${maxDepth} levels`);
    if (Array.isArray(current)) {
      for (const item of current) pending.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, child] of Object.entries(current)) {
      for (const name of attributeNamesIn(key)) {
        if (isForbiddenName(name) || (options.inherited && INHERITED.has(name))) {
          throw ScimError.invalidValue(`${what}: ${JSON.stringify(key)} is not an attribute name`);
        }
      }
      pending.push({ value: child, depth: depth + 1 });
    }
  }
}
