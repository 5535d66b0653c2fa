import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/**
 * RFC 6962 / RFC 9162 Merkle tree hashing, proofs as ranges of the tree, and their verification.
 * Leaves and sizes are plain numbers (a log stays far below 2^53 entries); no bitwise operator
 * is used on them, as those are 32-bit in JavaScript.
 */

export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree. */
export const EMPTY_ROOT = createHash('sha256').digest();

export function leafHash(entry: Uint8Array | string): Buffer {
  return createHash('sha256').update(Buffer.of(0)).update(entry).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/**
 * The bytes of an audit entry, its leaf's input: the RFC 8785 canonical JSON of
 * `{"event": <the stored CloudEvent>, "seq": <its sequence number>}`.
 */
export function entryBytes(seq: number, event: unknown): string {
  const text = canonicalize({ event, seq });
  if (text === undefined) throw new TypeError('an audit entry must be JSON');
  return text;
}

/** A complete subtree: the 2^level leaves from index * 2^level on. */
export interface NodeId {
  level: number;
  index: number;
}

/** A range of leaves [start, end), whose hash is the Merkle tree hash of those leaves. */
export type LeafRange = readonly [start: number, end: number];

const pow2 = (level: number) => 2 ** level;

/** The largest power of two strictly below n (n > 1): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The complete subtrees that make up [start, end), left to right and largest first, for the
 * ranges a proof or a root uses (start a multiple of a power of two at least end - start). The
 * range's hash folds them from the right: h = last; h = node(previous, h)...
 */
export function subtreesOf([start, end]: LeafRange): NodeId[] {
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let level = 0;
    while (at % pow2(level + 1) === 0 && at + pow2(level + 1) <= end) level++;
    nodes.push({ level, index: at / pow2(level) });
    at += pow2(level);
  }
  return nodes;
}

/** The hash of a range from the hashes of its complete subtrees (see subtreesOf). */
export function foldSubtrees(hashes: Buffer[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let hash = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i], hash);
  return hash;
}

/** The ranges whose hashes make the RFC 6962 audit path of leaf `index` in a tree of `size` leaves, in proof order. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path = (start: number, end: number): LeafRange[] => {
    if (end - start <= 1) return [];
    const k = splitPoint(end - start);
    return index < start + k ? [...path(start, start + k), [start + k, end]] : [...path(start + k, end), [start, start + k]];
  };
  return path(0, size);
}

/** The ranges whose hashes make the RFC 6962 consistency proof from tree size `from` to `to`, in proof order. */
export function consistencyRanges(from: number, to: number): LeafRange[] {
  if (!(from >= 0 && from <= to)) throw new RangeError(`no consistency proof from ${from} to ${to}`);
  if (from === 0 || from === to) return [];
  const sub = (start: number, end: number, whole: boolean): LeafRange[] => {
    if (from === end) return whole ? [] : [[start, end]];
    const k = splitPoint(end - start);
    return from - start <= k ? [...sub(start, start + k, whole), [start + k, end]] : [...sub(start + k, end, false), [start, start + k]];
  };
  return sub(0, to, true);
}

/** Every complete subtree a list of ranges needs, once each. */
export function nodesOf(ranges: readonly LeafRange[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const range of ranges) for (const node of subtreesOf(range)) seen.set(`${node.level}/${node.index}`, node);
  return [...seen.values()];
}

/** The hashes of ranges, given a lookup of complete subtree hashes. */
export function hashRanges(ranges: readonly LeafRange[], lookup: (node: NodeId) => Buffer): Buffer[] {
  return ranges.map((range) => foldSubtrees(subtreesOf(range).map(lookup)));
}

/**
 * An append-only tree's right edge: the hashes of its complete subtrees, largest first (one per
 * bit of its size). Appending a leaf merges equal-sized subtrees, and reports each node it
 * completes, so a store can keep them.
 */
export class CompactRange {
  constructor(
    public size = 0,
    /** The subtree hashes, largest first, with their levels. */
    public readonly peaks: Array<{ level: number; hash: Buffer }> = [],
  ) {}

  /** The peaks of a tree of `size` leaves, as node ids, largest first. */
  static peaksOf(size: number): NodeId[] {
    return subtreesOf([0, size]);
  }

  /** Appends a leaf hash; returns the nodes it completes (the leaf itself first). */
  append(leaf: Buffer): Array<NodeId & { hash: Buffer }> {
    const index = this.size;
    const made: Array<NodeId & { hash: Buffer }> = [{ level: 0, index, hash: leaf }];
    let hash = leaf;
    let level = 0;
    while (this.peaks.length > 0 && this.peaks[this.peaks.length - 1].level === level) {
      const left = this.peaks.pop()!;
      hash = nodeHash(left.hash, hash);
      level++;
      made.push({ level, index: Math.floor(index / pow2(level)), hash });
    }
    this.peaks.push({ level, hash });
    this.size++;
    return made;
  }

  root(): Buffer {
    return foldSubtrees(this.peaks.map((p) => p.hash));
  }
}

/** RFC 9162 2.1.3.2: does `proof` show leaf `index` (0-based) with hash `leaf` in the tree of `size` with `root`? */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) return false;
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: does `proof` show the tree of `to` leaves with `toRoot` extends the one of `from` leaves with `fromRoot`? */
export function verifyConsistency(from: number, to: number, fromRoot: Uint8Array, toRoot: Uint8Array, proof: readonly Uint8Array[]): boolean {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from >= 1 && from <= to)) return false;
  if (fromRoot.length !== HASH_SIZE || toRoot.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (from === to) return proof.length === 0 && Buffer.from(fromRoot).equals(toRoot);
  // When `from` is a power of two, its root is the first node of the path.
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && pow2(Math.round(Math.log2(n))) === n;
}
