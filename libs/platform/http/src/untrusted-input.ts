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

const LONE_SURROGATE = /\p{Cs}/u;

/** Why a string cannot be accepted, or undefined when it can. */
export function badText(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character, which cannot be stored';
  if (LONE_SURROGATE.test(text)) return 'is not well-formed Unicode text (a lone surrogate)';
  return undefined;
}

/**
 * The first thing in an untrusted value (a parsed body, a query) that no route may accept: nesting
 * deeper than `maxDepth`, more than `maxNodes` items, a property named like a prototype, or text
 * with a NUL character or a lone surrogate. The walk uses its own stack (no recursion, so no
 * depth can overflow it) and reads own properties only; `where` prefixes the field named.
 */
export function untrustedInputError(value: unknown, where = ''): FieldError | undefined {
  const stack: Array<{ item: unknown; path: string; depth: number }> = [{ item: value, path: where, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { item, path, depth } = stack.pop()!;
    if (typeof item === 'string') {
      const reason = badText(item);
      if (reason) return { field: path || 'body', message: `${path || 'the body'} ${reason}` };
      continue;
    }
    if (typeof item !== 'object' || item === null) continue;
    if (depth >= INPUT_LIMITS.maxDepth) {
      return { field: path || 'body', message: `${path || 'the body'} nests deeper than ${INPUT_LIMITS.maxDepth} levels` };
    }
    // Array.from visits the holes of a sparse array too (map skips them and leaves holes behind).
    const entries = Array.isArray(item) ? Array.from(item as unknown[], (child, index) => [String(index), child] as const) : Object.entries(item);
    nodes += entries.length;
    if (nodes > INPUT_LIMITS.maxNodes) return { field: where || 'body', message: `${where || 'the body'} holds more than ${INPUT_LIMITS.maxNodes} values` };
    for (const [key, child] of entries) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (PROTOTYPE_KEYS.has(key)) return { field: childPath, message: `${key} is not an acceptable property name` };
      const keyReason = badText(key);
      if (keyReason) return { field: path || 'body', message: `a property name in ${path || 'the body'} ${keyReason}` };
      stack.push({ item: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The raw request target's problem, if any: a NUL character, encoded (`%00`) or not, in its path or query. */
export function untrustedTargetError(target: string): FieldError | undefined {
  if (target.includes('\u0000') || /%00/i.test(target)) return { field: 'url', message: 'the URL contains a NUL character (%00), which cannot be stored' };
  return undefined;
}
