import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { CustosEvent } from '@custos/platform/event-store';

/** The hash that starts the chain (the "previous hash" of the first entry). */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * chainHash links an entry to everything before it: sha256(previous hash + RFC 8785 canonical
 * JSON of the event). Changing, removing or reordering any earlier entry changes every later hash.
 */
export function chainHash(previousHash: string, event: CustosEvent): string {
  return chainHashOfText(previousHash, canonicalize(event) ?? '');
}

/** chainHashOfText is chainHash of an event already in its canonical JSON form (see canonicalText). */
export function chainHashOfText(previousHash: string, canonical: string): string {
  return createHash('sha256').update(previousHash).update(canonical).digest('hex');
}

/**
 * canonicalText is the RFC 8785 canonical JSON of an event, the text its chain hash covers. It is
 * valid JSON of the same value, so it can be stored as it is and hashed again on verification.
 */
export function canonicalText(event: CustosEvent): string {
  const text = canonicalize(event);
  if (text === undefined) throw new TypeError(`an audit entry must be a JSON object, got ${typeof event}`);
  return text;
}

export interface ChainEntry {
  seq: number;
  event: CustosEvent;
  prevHash: string;
  hash: string;
}

export type ChainVerdict = { ok: true; events: number; head: string } | { ok: false; events: number; head: string; brokenAt: number; reason: string };

/** verifyChain recomputes each hash in order; the first entry whose stored hashes disagree breaks the chain. */
export function verifyChain(entries: Iterable<ChainEntry>, start: { events: number; head: string } = { events: 0, head: GENESIS_HASH }): ChainVerdict {
  let head = start.head;
  let events = start.events;
  for (const entry of entries) {
    if (entry.seq !== events + 1) return { ok: false, events, head, brokenAt: entry.seq, reason: `expected entry ${events + 1}, found ${entry.seq}` };
    if (entry.prevHash !== head) return { ok: false, events, head, brokenAt: entry.seq, reason: 'previous hash does not match the chain' };
    const recomputed = chainHash(head, entry.event);
    if (recomputed !== entry.hash) return { ok: false, events, head, brokenAt: entry.seq, reason: 'entry content does not match its hash' };
    head = recomputed;
    events += 1;
  }
  return { ok: true, events, head };
}
