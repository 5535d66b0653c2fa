import type { FieldError } from './problem';

/** Limits on what any request may carry, whatever its route. */
export const INPUT_LIMITS = {
  /** Nesting of objects and arrays in a body: no Custos payload needs more than a handful. */
  maxDepth: 32,
  /** Properties and array items in a whole body. */
  maxNodes: 100_000,
  /** Largest JSON body the platform's parser reads, in bytes (SCIM parses its own, up to 1 MiB). */
  maxBodyBytes: 100 * 1024,
} as const;

/**
 * Names that reach an object's prototype when used as a property name: a library that writes
 * `target[name] = value` with one of them changes every object in the process.
 */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** String.prototype.isWellFormed (ES2024, in V8 since Node 20): false for a lone surrogate. Not in the ES2022 lib this project compiles against. */
type MaybeWellFormed = string & { isWellFormed(): boolean };

/** Why a string cannot be accepted, or undefined when it can. */
export function badText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character, which cannot be stored';
  // Native, and about three times faster than the /\p{Cs}/u test it replaced, on every string of every request.
  if (!(text as MaybeWellFormed).isWellFormed()) return 'is not well-formed Unicode text (a lone surrogate)';
  return undefined;
}

/**
 * The first thing in an untrusted value (a parsed body, a query) that no route may accept: nesting
 * deeper than `maxDepth`, more than `maxNodes` items, a property named like a prototype, or text
 * with a NUL character or a lone surrogate. The walk uses its own stack (no recursion, so no
 * depth can overflow it) and reads own properties only; `where` prefixes the field named.
 */
export function untrustedInputError(value: unknown, where = ''): FieldError | undefined {
  // Paths are only spelled out for the item refused: a frame knows its parent and its key.
  const stack: Frame[] = [{ item: value, key: where, parent: undefined, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { item, depth } = frame;
    if (typeof item === 'string') {
      const reason = badText(item);
      if (reason) {
        const path = pathOf(frame);
        return { field: path || 'body', message: `${path || 'the body'} ${reason}` };
      }
      continue;
    }
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= INPUT_LIMITS.maxDepth) {
      const path = pathOf(frame);
      return { field: path || 'body', message: `${path || 'the body'} nests deeper than ${INPUT_LIMITS.maxDepth} levels` };
    }
    if (Array.isArray(item)) {
      // Every index, holes of a sparse array included (read as undefined).
      nodes += item.length;
      if (nodes > INPUT_LIMITS.maxNodes) return { field: where || 'body', message: `${where || 'the body'} holds more than ${INPUT_LIMITS.maxNodes} values` };
      for (let index = 0; index < item.length; index++) stack.push({ item: item[index] as unknown, key: String(index), parent: frame, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(item);
    nodes += keys.length;
    if (nodes > INPUT_LIMITS.maxNodes) return { field: where || 'body', message: `${where || 'the body'} holds more than ${INPUT_LIMITS.maxNodes} values` };
    for (const key of keys) {
      if (PROTOTYPE_KEYS.has(key)) return { field: pathOf({ item: undefined, key, parent: frame, depth }), message: `${key} is not an acceptable property name` };
      const keyReason = badText(key);
      if (keyReason) {
        const path = pathOf(frame);
        return { field: path || 'body', message: `a property name in ${path || 'the body'} ${keyReason}` };
      }
      stack.push({ item: (item as Record<string, unknown>)[key], key, parent: frame, depth: depth + 1 });
    }
  }
  return undefined;
}

interface Frame {
  item: unknown;
  /** The property name or index under the parent; for the root, the `where` prefix. */
  key: string;
  parent: Frame | undefined;
  depth: number;
}

/** The dotted path of a frame: `employee.email`, `groups.1`, prefixed by the root's `where`. */
function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let at: Frame | undefined = frame; at !== undefined; at = at.parent) if (at.parent !== undefined || at.key !== '') keys.push(at.key);
  return keys.reverse().join('.');
}

/** The raw request target's problem, if any: a NUL character, encoded (`%00`) or not, in its path or query. */
export function untrustedTargetError(target: string): FieldError | undefined {
  if (target.includes('\u0000') || /%00/i.test(target)) return { field: 'url', message: 'the URL contains a NUL character (%00), which cannot be stored' };
  return undefined;
}
