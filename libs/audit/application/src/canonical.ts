import canonicalize from 'canonicalize';
import type { CustosEvent } from '@custos/platform/event-store';

/**
 * canonicalText is the RFC 8785 canonical JSON of an event, the text its audit entry covers. It
 * is valid JSON of the same value, so it can be stored as it is and hashed again on verification.
 */
export function canonicalText(event: CustosEvent): string {
  const text = canonicalize(event);
  if (text === undefined) throw new TypeError(`an audit entry must be a JSON object, got ${typeof event}`);
  return text;
}
