import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import {
  CompactRange,
  consistencyRanges,
  foldSubtrees,
  hashRanges,
  inclusionRanges,
  leafHash,
  NodeId,
  nodesOf,
} from './merkle';
import { CosignatureRefused, openCosignature, type WitnessKey } from './cosignature';
import { checkpointText, NoteSigner, openNote, parseCheckpoint, parseVerifierKey, signNote, verifierKeyOf } from './signed-note';

/** A request the log cannot answer: a position beyond the tree, a range backwards (a 400 at the edge). */
export class AuditRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditRangeError';
  }
}

/** Nothing to answer yet: no checkpoint has been made (a 404 at the edge). */
export class NoCheckpointError extends Error {
  constructor(message = 'no checkpoint has been made yet') {
    super(message);
    this.name = 'NoCheckpointError';
  }
}

export interface TransparencySettings {
  /** The checkpoints' origin line, e.g. `custos.example.com/audit`. */
  origin: string;
  /** The key that signs checkpoints; none: no checkpoints are made (proofs still are). */
  signer?: NoteSigner;
  /** A checkpoint is made in the transaction that brings the tree this many entries past the last one. */
  checkpointEvery: number;
  /** The tree size from which a signer not yet published signs (default: the size when it is published). */
  keyFromSize?: number;
  /** The witnesses whose cosignatures (C2SP tlog-cosignature) the log accepts and serves with its checkpoints. */
  witnesses?: WitnessKey[];
}

export interface StoredCheckpoint {
  treeSize: number;
  rootHash: string;
  origin: string;
  /** The verifier key of the key that signed it. */
  signedBy: string;
  /** The signed note, as any C2SP signed-note verifier reads it, with the witnesses' cosignature lines after the log's signature. */
  note: string;
  /** The witnesses that cosigned it (their verifier keys). */
  cosignedBy: string[];
  createdAt: string;
}

export interface StoredCosignature {
  treeSize: number;
  /** The witness's verifier key. */
  witness: string;
  /** When the witness cosigned it (POSIX seconds). */
  timestamp: number;
  /** The signature line, as it is appended to the checkpoint's note. */
  line: string;
}

export interface PublishedKey {
  /** `<name>+<hex key id>+<base64 key>`. */
  verifierKey: string;
  name: string;
  keyId: string;
  /** It signs the checkpoints of this size and larger (until a later key's size). */
  fromSize: number;
  addedAt: string;
}

export interface InclusionProof {
  seq: number;
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  path: string[];
}

export interface ConsistencyProof {
  from: number;
  to: number;
  fromRoot: string;
  toRoot: string;
  proof: string[];
}

export type TreeVerdict =
  | { ok: true; events: number; treeSize: number; rootHash: string; checkpoints: number }
  | {
      ok: false;
      events: number;
      treeSize: number;
      checkpoints: number;
      /** The sequence number of the first entry that differs. */
      brokenAt: number;
      problem: 'changed' | 'deleted' | 'inserted' | 'tree' | 'checkpoint';
      reason: string;
    };

const b64 = (hash: Buffer) => hash.toString('base64');
const key = (n: NodeId) => `${n.level}/${n.index}`;

/** The SQL tables of the tree, its checkpoints and their keys: a migration step of the audit schema. */
export function transparencySchema(s: string): (tx: SqlExecutor) => Promise<void> {
  return async (tx) => {
    // Complete subtrees only: (level, idx) covers leaves idx * 2^level .. (idx + 1) * 2^level - 1.
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.tree (level smallint NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (level, idx))`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.tree_checkpoints (
      tree_size bigint PRIMARY KEY,
      root_hash bytea NOT NULL,
      signed_by text NOT NULL,
      note text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.tree_keys (
      ord bigint GENERATED ALWAYS AS IDENTITY,
      verifier text PRIMARY KEY,
      name text NOT NULL,
      key_id text NOT NULL,
      from_size bigint NOT NULL,
      added_at timestamptz NOT NULL DEFAULT now()
    )`);
    // A witness's cosignature of a checkpoint (C2SP tlog-cosignature), one per witness and checkpoint.
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.tree_cosignatures (
      tree_size bigint NOT NULL,
      witness text NOT NULL,
      cosigned_at bigint NOT NULL,
      line text NOT NULL,
      added_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tree_size, witness)
    )`);
    for (const table of ['tree', 'tree_checkpoints', 'tree_keys', 'tree_cosignatures']) {
      await tx.query(`DROP TRIGGER IF EXISTS ${table}_append_only ON ${s}.${table}`);
      await tx.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${s}.${table} FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`);
      await tx.query(`DROP TRIGGER IF EXISTS ${table}_no_truncate ON ${s}.${table}`);
      await tx.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`);
    }
  };
}

/**
 * The audit log as an RFC 6962 Merkle tree: the stored complete subtrees (kept by AuditLog in the
 * transaction of each append), checkpoints signed as C2SP signed notes, their keys, and the proofs.
 * Every proof reads O(log n) stored nodes, never the leaves.
 */
export class TransparencyLog {
  /** The right edge of the tree as last committed by this process, to append without reading it. */
  private edge?: CompactRange;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    readonly settings: TransparencySettings,
  ) {}

  /** The tree's size: how many leaves it holds. */
  async size(x: SqlExecutor = this.db): Promise<number> {
    const { rows } = await x.query<{ size: string }>(`SELECT coalesce(max(idx) + 1, 0) AS size FROM ${this.schema}.tree WHERE level = 0`);
    return Number(rows[0].size);
  }

  async nodes(x: SqlExecutor, ids: NodeId[]): Promise<(node: NodeId) => Buffer> {
    const found = new Map<string, Buffer>();
    if (ids.length > 0) {
      const { rows } = await x.query<{ level: number; idx: string; hash: string }>(
        `SELECT t.level, t.idx, encode(t.hash, 'hex') AS hash FROM ${this.schema}.tree t
         JOIN unnest($1::int[], $2::bigint[]) AS n(l, i) ON t.level = n.l AND t.idx = n.i`,
        [ids.map((n) => n.level), ids.map((n) => n.index)],
      );
      for (const row of rows) found.set(`${row.level}/${row.idx}`, Buffer.from(row.hash, 'hex'));
    }
    return (node) => {
      const hash = found.get(key(node));
      if (!hash) throw new Error(`the audit tree lacks its node at level ${node.level}, index ${node.index}`);
      return hash;
    };
  }

  /** The right edge of the tree of `size` leaves (from memory when this process wrote it last). */
  async edgeAt(x: SqlExecutor, size: number): Promise<CompactRange> {
    if (this.edge?.size === size) return new CompactRange(size, [...this.edge.peaks]);
    const peaks = CompactRange.peaksOf(size);
    const lookup = await this.nodes(x, peaks);
    return new CompactRange(size, peaks.map((p) => ({ level: p.level, hash: lookup(p) })));
  }

  /**
   * Appends leaves (entry bytes) to the tree of `size` leaves, in the caller's transaction; makes a
   * checkpoint if one is due. The caller holds the log's lock.
   */
  async appendIn(tx: SqlExecutor, size: number, entries: string[], lastCheckpoint: number): Promise<void> {
    const edge = await this.edgeAt(tx, size);
    const rows: string[] = [];
    for (const entry of entries) {
      for (const node of edge.append(leafHash(entry))) rows.push(`[${node.level},${node.index},"${node.hash.toString('hex')}"]`);
    }
    await tx.query(
      `INSERT INTO ${this.schema}.tree (level, idx, hash)
       SELECT (r->>0)::smallint, (r->>1)::bigint, decode(r->>2, 'hex') FROM jsonb_array_elements($1::jsonb) AS x(r)`,
      [`[${rows.join(',')}]`],
    );
    if (edge.size - lastCheckpoint >= this.settings.checkpointEvery) await this.checkpointIn(tx, edge.size, edge.root());
    tx.afterCommit?.(() => {
      this.edge = edge;
    });
  }

  /** Signs and stores a checkpoint of the tree of `size` with `root`, if this process holds the key that signs that size. */
  private async checkpointIn(tx: SqlExecutor, size: number, root: Buffer): Promise<StoredCheckpoint | null> {
    const signer = this.settings.signer;
    if (!signer || size === 0) return null;
    const { rows } = await tx.query<{ verifier: string }>(
      `SELECT verifier FROM ${this.schema}.tree_keys WHERE from_size <= $1 ORDER BY from_size DESC, ord DESC LIMIT 1`,
      [size],
    );
    const mine = verifierKeyOf(signer);
    if (rows[0]?.verifier !== mine) return null;
    const note = signNote(checkpointText({ origin: this.settings.origin, size, root }), signer);
    await tx.query(
      `INSERT INTO ${this.schema}.tree_checkpoints (tree_size, root_hash, signed_by, note) VALUES ($1, decode($2, 'hex'), $3, $4) ON CONFLICT (tree_size) DO NOTHING`,
      [size, root.toString('hex'), mine, note],
    );
    return null;
  }

  /** Makes a checkpoint of the whole tree now if it grew since the last one (the timer's). */
  async checkpointNow(lock: (tx: SqlExecutor) => Promise<void>): Promise<void> {
    if (!this.settings.signer) return;
    await this.db.transaction(async (tx) => {
      await lock(tx);
      const size = await this.size(tx);
      const { rows } = await tx.query<{ last: string | null }>(`SELECT max(tree_size) AS last FROM ${this.schema}.tree_checkpoints`);
      if (size > Number(rows[0].last ?? 0)) await this.checkpointIn(tx, size, (await this.edgeAt(tx, size)).root());
    });
  }

  /**
   * Publishes the signer's verifier key if it is new: it signs from `keyFromSize` (or the tree's
   * current size) on; the keys before it stay published, for the checkpoints they signed.
   */
  async publishKey(lock: (tx: SqlExecutor) => Promise<void>): Promise<{ verifierKey: string; fromSize: number; added: boolean } | null> {
    const signer = this.settings.signer;
    if (!signer) return null;
    const verifierKey = verifierKeyOf(signer);
    return this.db.transaction(async (tx) => {
      await lock(tx);
      const { rows } = await tx.query<{ from_size: string }>(`SELECT from_size FROM ${this.schema}.tree_keys WHERE verifier = $1`, [verifierKey]);
      if (rows[0]) return { verifierKey, fromSize: Number(rows[0].from_size), added: false };
      const fromSize = this.settings.keyFromSize ?? (await this.size(tx));
      await tx.query(`INSERT INTO ${this.schema}.tree_keys (verifier, name, key_id, from_size) VALUES ($1, $2, $3, $4)`, [
        verifierKey,
        signer.name,
        verifierKey.split('+')[1],
        fromSize,
      ]);
      return { verifierKey, fromSize, added: true };
    });
  }

  async keys(): Promise<PublishedKey[]> {
    const { rows } = await this.db.query<{ verifier: string; name: string; key_id: string; from_size: string; added_at: Date | string }>(
      `SELECT verifier, name, key_id, from_size, added_at FROM ${this.schema}.tree_keys ORDER BY ord`,
    );
    return rows.map((r) => ({ verifierKey: r.verifier, name: r.name, keyId: r.key_id, fromSize: Number(r.from_size), addedAt: new Date(r.added_at).toISOString() }));
  }

  async checkpoints(query: { size?: number; after?: number; limit: number }): Promise<{ items: StoredCheckpoint[]; next: string | null }> {
    const { rows } = await this.db.query<CheckpointRow>(
      `SELECT tree_size, signed_by, note, created_at, ${this.cosignatureColumns('cp')} FROM ${this.schema}.tree_checkpoints cp
       WHERE ($1::bigint IS NULL OR tree_size = $1) AND tree_size > $2 ORDER BY tree_size LIMIT $3`,
      [query.size ?? null, query.after ?? 0, query.limit + 1],
    );
    const items = rows.slice(0, query.limit).map(checkpointOf);
    return { items, next: rows.length > query.limit ? String(items[items.length - 1].treeSize) : null };
  }

  async latestCheckpoint(): Promise<StoredCheckpoint> {
    const { rows } = await this.db.query<CheckpointRow>(
      `SELECT tree_size, signed_by, note, created_at, ${this.cosignatureColumns('cp')} FROM ${this.schema}.tree_checkpoints cp ORDER BY tree_size DESC LIMIT 1`,
    );
    if (!rows[0]) throw new NoCheckpointError();
    return checkpointOf(rows[0]);
  }

  /** The cosignature lines and witnesses of the checkpoint row `cp`, oldest first. */
  private cosignatureColumns(cp: string): string {
    return `(SELECT string_agg(c.line, E'\n' ORDER BY c.added_at, c.witness) FROM ${this.schema}.tree_cosignatures c WHERE c.tree_size = ${cp}.tree_size) AS cosignatures,
            (SELECT array_agg(c.witness ORDER BY c.added_at, c.witness) FROM ${this.schema}.tree_cosignatures c WHERE c.tree_size = ${cp}.tree_size) AS witnesses`;
  }

  /**
   * Adds a witness's cosignature (its signature line) to the checkpoint of `treeSize`, once per
   * witness: it must be by a configured witness, verify on that checkpoint, and not be dated in the
   * future (CosignatureRefused). A second one by the same witness keeps the first.
   */
  async addCosignature(treeSize: number, line: string, now: Date): Promise<StoredCosignature & { added: boolean }> {
    const { rows } = await this.db.query<{ note: string }>(`SELECT note FROM ${this.schema}.tree_checkpoints WHERE tree_size = $1`, [treeSize]);
    if (!rows[0]) throw new NoCheckpointError(`there is no checkpoint of tree size ${treeSize}`);
    const text = rows[0].note.slice(0, rows[0].note.lastIndexOf('\n\n') + 1);
    const witnesses = this.settings.witnesses ?? [];
    if (witnesses.length === 0) throw new CosignatureRefused('unknown-witness', 'this log has no witnesses configured (CUSTOS_AUDIT_WITNESSES)');
    const { witness, timestamp } = openCosignature(line, text, witnesses, now);
    const trimmed = line.trim();
    const inserted = await this.db.query(
      `INSERT INTO ${this.schema}.tree_cosignatures (tree_size, witness, cosigned_at, line) VALUES ($1, $2, $3, $4) ON CONFLICT (tree_size, witness) DO NOTHING`,
      [treeSize, witness.verifierKey, timestamp, trimmed],
    );
    if ((inserted.rowCount ?? 0) > 0) return { treeSize, witness: witness.verifierKey, timestamp, line: trimmed, added: true };
    const { rows: kept } = await this.db.query<{ cosigned_at: string; line: string }>(
      `SELECT cosigned_at, line FROM ${this.schema}.tree_cosignatures WHERE tree_size = $1 AND witness = $2`,
      [treeSize, witness.verifierKey],
    );
    return { treeSize, witness: witness.verifierKey, timestamp: Number(kept[0].cosigned_at), line: kept[0].line, added: false };
  }

  /** RFC 6962 audit path of entry `seq` (1-based) in the tree of `treeSize` leaves. */
  async inclusion(seq: number, treeSize: number): Promise<InclusionProof> {
    if (seq > treeSize) throw new AuditRangeError(`seq ${seq} is beyond the tree size ${treeSize}`);
    return this.withinTree(this.db, treeSize, 'treeSize', async () => (await this.inclusionProofs(this.db, [seq], () => treeSize))[0]);
  }

  /**
   * Runs a proof's reads in one round trip: a tree of `treeSize` entries lacks a node the proof
   * needs only if it is beyond the stored tree (nodes are stored for complete subtrees only), so
   * the tree's size is read only then, to say so.
   */
  private async withinTree<T>(x: SqlExecutor, treeSize: number, field: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const size = await this.size(x);
      if (treeSize > size) throw new AuditRangeError(`${field} ${treeSize} is beyond the tree, which holds ${size} entries`);
      throw error;
    }
  }

  /** Inclusion proofs of several entries, each in the tree size `sizeFor` gives it, reading their nodes at once. */
  async inclusionProofs(x: SqlExecutor, seqs: number[], sizeFor: (seq: number) => number): Promise<InclusionProof[]> {
    const plans = seqs.map((seq) => {
      const treeSize = sizeFor(seq);
      return { seq, treeSize, ranges: inclusionRanges(seq - 1, treeSize), peaks: CompactRange.peaksOf(treeSize) };
    });
    const lookup = await this.nodes(x, nodesOf(plans.flatMap((p) => [...p.ranges, ...p.peaks.map(rangeOf), [p.seq - 1, p.seq] as const])));
    return plans.map((p) => ({
      seq: p.seq,
      leafIndex: p.seq - 1,
      treeSize: p.treeSize,
      leafHash: b64(lookup({ level: 0, index: p.seq - 1 })),
      rootHash: b64(foldSubtrees(p.peaks.map(lookup))),
      path: hashRanges(p.ranges, lookup).map(b64),
    }));
  }

  /** RFC 6962 consistency proof from tree size `from` to `to`. */
  async consistency(from: number, to: number, x: SqlExecutor = this.db): Promise<ConsistencyProof> {
    if (from > to) throw new AuditRangeError(`from ${from} is after to ${to}`);
    const ranges = consistencyRanges(from, to);
    const fromPeaks = CompactRange.peaksOf(from);
    const toPeaks = CompactRange.peaksOf(to);
    return this.withinTree(x, to, 'to', async () => {
      const lookup = await this.nodes(x, nodesOf([...ranges, ...fromPeaks.map(rangeOf), ...toPeaks.map(rangeOf)]));
      return {
        from,
        to,
        fromRoot: b64(foldSubtrees(fromPeaks.map(lookup))),
        toRoot: b64(foldSubtrees(toPeaks.map(lookup))),
        proof: hashRanges(ranges, lookup).map(b64),
      };
    });
  }

  /**
   * Recomputes the tree from the entries (`pages` reads them in order, from a seq on) and checks
   * every stored leaf and node against it, and every checkpoint's signature and root. Names the
   * first entry that differs: changed (its leaf differs), deleted (a gap, or fewer entries than
   * leaves), inserted (an entry the tree does not hold).
   */
  async verify(pages: (from: number, until: number) => Promise<Array<{ seq: number; entry: string; leaf: string | null }>>): Promise<TreeVerdict> {
    const { rows: [head] } = await this.db.query<{ logged: string; leaves: string }>(
      `SELECT (SELECT coalesce(max(seq), 0) FROM ${this.schema}.log) AS logged, (SELECT coalesce(max(idx) + 1, 0) FROM ${this.schema}.tree WHERE level = 0) AS leaves`,
    );
    const leaves = Number(head.leaves);
    const end = Math.max(Number(head.logged), leaves);
    const { rows: stored } = await this.db.query<CheckpointRow & { root: string }>(
      `SELECT tree_size, encode(root_hash, 'hex') AS root, signed_by, note, created_at FROM ${this.schema}.tree_checkpoints WHERE tree_size <= $1 ORDER BY tree_size`,
      [end],
    );
    const known = (await this.keys()).map((k) => parseVerifierKey(k.verifierKey));
    const range = new CompactRange();
    let checked = 0;
    const fail = (brokenAt: number, problem: Exclude<TreeVerdict, { ok: true }>['problem'], reason: string): TreeVerdict => ({
      ok: false,
      events: range.size,
      treeSize: leaves,
      checkpoints: checked,
      brokenAt,
      problem,
      reason,
    });
    const checkpointAt = (size: number): string | null => {
      const cp = stored[checked];
      if (!cp || Number(cp.tree_size) !== size) return null;
      checked++;
      try {
        const opened = openNote(cp.note, known);
        if (opened.verifiedBy.length === 0) return `checkpoint ${size}: no published key's signature verifies`;
        const text = parseCheckpoint(opened.text);
        if (text.size !== size || text.root.toString('hex') !== cp.root) return `checkpoint ${size}: its note does not say the size and root stored beside it`;
      } catch (error) {
        return `checkpoint ${size}: ${(error as Error).message}`;
      }
      if (cp.root !== range.root().toString('hex')) return `checkpoint ${size}: its root differs from the root recomputed from the entries`;
      return null;
    };
    while (range.size < end) {
      const page = await pages(range.size + 1, end);
      if (page.length === 0) break;
      const made: Array<NodeId & { hash: Buffer; seq: number }> = [];
      for (const row of page) {
        const expected = range.size + 1;
        if (row.seq !== expected) {
          return leaves >= expected
            ? fail(expected, 'deleted', `entry ${expected} is missing from the log; the tree holds it`)
            : fail(row.seq, 'inserted', `entry ${row.seq} follows entry ${expected - 1}: entries ${expected}..${row.seq - 1} never were, it was inserted`);
        }
        const leaf = leafHash(row.entry);
        if (row.leaf === null) return fail(row.seq, 'inserted', `entry ${row.seq} is not in the tree: it was inserted into the log behind its back`);
        if (row.leaf !== leaf.toString('hex')) return fail(row.seq, 'changed', `entry ${row.seq} does not match its leaf hash: it was changed`);
        for (const node of range.append(leaf)) if (node.level > 0) made.push({ ...node, seq: row.seq });
        const bad = checkpointAt(range.size);
        if (bad) return fail(range.size, 'checkpoint', bad);
      }
      const lookup = await this.nodes(this.db, made);
      for (const node of made) {
        let storedHash: Buffer | undefined;
        try {
          storedHash = lookup(node);
        } catch {
          storedHash = undefined;
        }
        if (!storedHash?.equals(node.hash)) {
          const first = node.index * 2 ** node.level + 1;
          return fail(first, 'tree', `the tree's node over entries ${first}..${node.seq} differs from the one recomputed from them`);
        }
      }
    }
    if (range.size < end) return fail(range.size + 1, 'deleted', `entry ${range.size + 1} is missing from the log; the tree holds ${leaves} entries`);
    if (checked < stored.length) return fail(Number(stored[checked].tree_size), 'checkpoint', `checkpoint ${stored[checked].tree_size} covers entries the log does not hold`);
    return { ok: true, events: range.size, treeSize: leaves, rootHash: b64(range.root()), checkpoints: checked };
  }
}

interface CheckpointRow {
  tree_size: string;
  signed_by: string;
  note: string;
  created_at: Date | string;
  cosignatures?: string | null;
  witnesses?: string[] | null;
}

function checkpointOf(row: CheckpointRow): StoredCheckpoint {
  const text = row.note.slice(0, row.note.lastIndexOf('\n\n') + 1);
  const { origin, size, root } = parseCheckpoint(text);
  // Cosignatures are more signature lines of the same note: a verifier ignores those of keys it does not know.
  const note = row.cosignatures ? `${row.note}${row.cosignatures}\n` : row.note;
  return { treeSize: size, rootHash: b64(root), origin, signedBy: row.signed_by, note, cosignedBy: row.witnesses ?? [], createdAt: new Date(row.created_at).toISOString() };
}

function rangeOf(node: NodeId): readonly [number, number] {
  const width = 2 ** node.level;
  return [node.index * width, (node.index + 1) * width];
}
