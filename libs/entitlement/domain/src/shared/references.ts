import { UnknownReference, type ReferenceKind } from '../errors';

/** A set of known keys, as the application hands it over. */
export type KnownKeys = ReadonlySet<string> | readonly string[];

/** unknownKeys: the keys (deduplicated, in the order given) that are not in `known`. */
export function unknownKeys(keys: readonly string[], known: KnownKeys): string[] {
  const has = Array.isArray(known) ? (key: string) => known.includes(key) : (key: string) => (known as ReadonlySet<string>).has(key);
  return unique(keys.filter((key) => !has(key)));
}

/** assertReferencesKnown: every referenced key must exist; the error names all unknown keys of every kind. */
export function assertReferencesKnown(checks: Array<{ kind: ReferenceKind; keys: readonly string[]; known: KnownKeys }>): void {
  const references = checks
    .map((check) => ({ kind: check.kind, keys: unknownKeys(check.keys, check.known) }))
    .filter((reference) => reference.keys.length > 0);
  if (references.length > 0) throw new UnknownReference(references);
}

/** unique: keeps the first occurrence of each value, in order. */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
