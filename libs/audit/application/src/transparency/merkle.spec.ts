import { createHash } from 'node:crypto';
import {
  CompactRange,
  consistencyRanges,
  entryBytes,
  foldSubtrees,
  hashRanges,
  inclusionRanges,
  leafHash,
  NodeId,
  nodesOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle';
import { entryText } from '../read-models/audit-log/audit-log';
import { canonicalText } from '../canonical';

/*
 * An independent RFC 6962 implementation, written from the RFC's definitions (section 2.1) for
 * this test and sharing nothing with the server's code: MTH, PATH and PROOF over a list of
 * entries, recursively, exactly as the RFC states them.
 */
const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const rfc = {
  k: (n: number) => {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  },
  leaf: (d: Uint8Array) => sha256(Buffer.of(0), d),
  /** MTH(D[n]) over leaf hashes. */
  mth(leaves: Buffer[]): Buffer {
    if (leaves.length === 0) return sha256();
    if (leaves.length === 1) return leaves[0];
    const k = rfc.k(leaves.length);
    return sha256(Buffer.of(1), rfc.mth(leaves.slice(0, k)), rfc.mth(leaves.slice(k)));
  },
  /** PATH(m, D[n]). */
  path(m: number, leaves: Buffer[]): Buffer[] {
    if (leaves.length <= 1) return [];
    const k = rfc.k(leaves.length);
    return m < k ? [...rfc.path(m, leaves.slice(0, k)), rfc.mth(leaves.slice(k))] : [...rfc.path(m - k, leaves.slice(k)), rfc.mth(leaves.slice(0, k))];
  },
  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
  proof(m: number, leaves: Buffer[]): Buffer[] {
    const sub = (m: number, d: Buffer[], b: boolean): Buffer[] => {
      if (m === d.length) return b ? [] : [rfc.mth(d)];
      const k = rfc.k(d.length);
      return m <= k ? [...sub(m, d.slice(0, k), b), rfc.mth(d.slice(k))] : [...sub(m - k, d.slice(k), false), rfc.mth(d.slice(0, k))];
    };
    return sub(m, leaves, true);
  },
  /** Checks an audit path by rebuilding the root along PATH's recursion (RFC 6962 2.1.1, read backwards). */
  rootFromPath(m: number, n: number, leaf: Buffer, path: Buffer[]): Buffer | null {
    const climb = (m: number, n: number, rest: Buffer[]): { hash: Buffer; rest: Buffer[] } | null => {
      if (n === 1) return { hash: leaf, rest };
      const k = rfc.k(n);
      const inner = m < k ? climb(m, k, rest) : climb(m - k, n - k, rest);
      if (!inner || inner.rest.length === 0) return null;
      const [sibling, ...others] = inner.rest;
      return { hash: m < k ? sha256(Buffer.of(1), inner.hash, sibling) : sha256(Buffer.of(1), sibling, inner.hash), rest: others };
    };
    const out = climb(m, n, path);
    return out && out.rest.length === 0 ? out.hash : null;
  },
};

const unhex = (h: string) => Buffer.from(h, 'hex');
const hex = (b: Buffer) => b.toString('hex');

/** Test data of Certificate Transparency's reference implementation, as transparency-dev/merkle publishes it (testonly). */
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: Array<[index: number, size: number, path: string[]]> = [
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const CT_CONSISTENCY: Array<[from: number, to: number, proof: string[]]> = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];

/** The server's way: complete subtrees stored as the tree grows, proofs read from them only. */
function serverTree(leaves: Buffer[]) {
  const stored = new Map<string, Buffer>();
  const edge = new CompactRange();
  for (const leaf of leaves) for (const node of edge.append(leaf)) stored.set(`${node.level}/${node.index}`, node.hash);
  const reads: NodeId[] = [];
  const lookup = (n: NodeId) => {
    reads.push(n);
    const hash = stored.get(`${n.level}/${n.index}`);
    if (!hash) throw new Error(`no node ${n.level}/${n.index}`);
    return hash;
  };
  return {
    edge,
    stored,
    reads,
    root: (size: number) => foldSubtrees(CompactRange.peaksOf(size).map(lookup)),
    inclusion: (index: number, size: number) => hashRanges(inclusionRanges(index, size), lookup),
    consistency: (from: number, to: number) => hashRanges(consistencyRanges(from, to), lookup),
  };
}

describe('RFC 6962 Merkle tree', () => {
  const ctLeaves = CT_LEAVES.map(leafHash);
  const ct = serverTree(ctLeaves);

  it('gives the reference roots of Certificate Transparency for sizes 1 to 8, and SHA-256("") for the empty tree', () => {
    for (let n = 1; n <= 8; n++) expect(hex(ct.root(n))).toBe(CT_ROOTS[n - 1]);
    expect(hex(ct.edge.root())).toBe(CT_ROOTS[7]);
    expect(hex(new CompactRange().root())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(rfc.mth(ctLeaves))).toBe(CT_ROOTS[7]);
  });

  it.each(CT_INCLUSION)('gives the reference audit path of leaf %d in a tree of %d', (index, size, path) => {
    expect(ct.inclusion(index, size).map(hex)).toEqual(path);
    expect(verifyInclusion(ctLeaves[index], index, size, path.map(unhex), unhex(CT_ROOTS[size - 1]))).toBe(true);
  });

  it.each(CT_CONSISTENCY)('gives the reference consistency proof from %d to %d', (from, to, proof) => {
    expect(ct.consistency(from, to).map(hex)).toEqual(proof);
    expect(verifyConsistency(from, to, unhex(CT_ROOTS[from - 1]), unhex(CT_ROOTS[to - 1]), proof.map(unhex))).toBe(true);
  });

  const many = Array.from({ length: 70 }, (_, i) => rfc.leaf(Buffer.from(`entry ${i}`)));
  const tree = serverTree(many);

  it('agrees with the independent implementation on every root, audit path and consistency proof up to 70 leaves', () => {
    for (let n = 1; n <= many.length; n++) {
      const leaves = many.slice(0, n);
      const root = rfc.mth(leaves);
      expect(hex(tree.root(n))).toBe(hex(root));
      for (let m = 0; m < n; m++) {
        const path = tree.inclusion(m, n);
        expect(path.map(hex)).toEqual(rfc.path(m, leaves).map(hex));
        expect(rfc.rootFromPath(m, n, leaves[m], path)?.equals(root)).toBe(true);
        expect(verifyInclusion(leaves[m], m, n, path, root)).toBe(true);
      }
      for (let m = 1; m <= n; m++) {
        const proof = tree.consistency(m, n);
        expect(proof.map(hex)).toEqual(rfc.proof(m, leaves).map(hex));
        expect(verifyConsistency(m, n, rfc.mth(many.slice(0, m)), root, proof)).toBe(true);
      }
    }
  });

  it('refuses proofs that are wrong in any way', () => {
    const n = 45;
    const root = rfc.mth(many.slice(0, n));
    for (let m = 0; m < n; m++) {
      const path = tree.inclusion(m, n);
      expect(verifyInclusion(many[m], m + 1, n, path, root)).toBe(false);
      expect(verifyInclusion(many[m + 1], m, n, path, root)).toBe(false);
      expect(verifyInclusion(many[m], m, n, path.slice(1), root)).toBe(false);
      expect(verifyInclusion(many[m], m, n, [...path, root], root)).toBe(false);
      const flipped = path.map((p) => Buffer.from(p));
      flipped[0][5] ^= 1;
      expect(verifyInclusion(many[m], m, n, flipped, root)).toBe(false);
    }
    for (let m = 1; m < n; m++) {
      const proof = tree.consistency(m, n);
      const old = rfc.mth(many.slice(0, m));
      expect(verifyConsistency(m, n, old, rfc.mth(many.slice(0, n + 1)), proof)).toBe(false);
      expect(verifyConsistency(m, n, rfc.mth(many.slice(1, m + 1)), root, proof)).toBe(false);
      expect(verifyConsistency(m, n, old, root, proof.slice(0, -1))).toBe(false);
      expect(verifyConsistency(m, n, old, root, [...proof, root])).toBe(false);
    }
  });

  it('stores each complete subtree once and reads O(log n) of them for a proof', () => {
    const size = 1000;
    const big = serverTree(Array.from({ length: size }, (_, i) => rfc.leaf(Buffer.from(String(i)))));
    expect(big.stored.size).toBe(2 * size - [...size.toString(2)].filter((b) => b === '1').length);
    big.reads.length = 0;
    big.inclusion(617, size);
    expect(big.reads.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
    big.reads.length = 0;
    big.consistency(377, size);
    expect(big.reads.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
    expect(nodesOf(consistencyRanges(377, size)).length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)));
  });

  it("hashes an entry as the RFC 8785 canonical JSON of its event with its sequence number", () => {
    const event = { specversion: '1.0', id: 'e1', type: 't', source: '/s', time: '2026-01-01T00:00:00Z', data: { z: 1, a: ['é', 1.5e21] } } as never;
    const text = entryText(7, canonicalText(event));
    expect(text).toBe(entryBytes(7, event));
    expect(text).toBe('{"event":{"data":{"a":["é",1.5e+21],"z":1},"id":"e1","source":"/s","specversion":"1.0","time":"2026-01-01T00:00:00Z","type":"t"},"seq":7}');
    expect(leafHash(text).equals(rfc.leaf(Buffer.from(text, 'utf8')))).toBe(true);
  });
});
