/** etagOf is the weak entity tag of a resource version: `W/"<n>"` (RFC 7644 section 3.14). */
export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/**
 * ifMatchSatisfied tells whether an If-Match header admits the current version: `*`, or any
 * listed tag whose opaque value is the version (weak comparison, so `"3"` and `W/"3"` both match).
 * No header admits any version.
 */
export function ifMatchSatisfied(header: string | undefined, version: number): boolean {
  if (header === undefined || header.trim() === '') return true;
  const tags = header.split(',').map((t) => t.trim());
  return tags.some((tag) => tag === '*' || tag.replace(/^W\//i, '') === `"${version}"`);
}
