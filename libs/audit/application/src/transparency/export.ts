import canonicalize from 'canonicalize';
import type { AuditLog } from '../read-models/audit-log/audit-log';
import { entryBytes, leafHash, verifyConsistency, verifyInclusion } from './merkle';
import { openCosignature, type WitnessKey } from './cosignature';
import { NoteVerifier, openNote, parseCheckpoint, strictBase64 } from './signed-note';
import { AuditRangeError, NoCheckpointError } from './transparency-log';

/**
 * The NDJSON export of entries from..to, each line the RFC 8785 canonical JSON of one record:
 *
 *   {"format":"custos-audit-export/1","from":F,"kind":"export","to":T}
 *   {"kind":"checkpoint","note":"<signed note>"}                      the checkpoints covering F..T, by size
 *   {"from":A,"kind":"consistency","proof":[...],"to":B}              between each two successive ones
 *   {"event":{...},"kind":"entry","seq":S}                            each entry F..T, followed by
 *   {"kind":"inclusion","proof":[...],"seq":S,"treeSize":N}           its audit path in the first checkpoint covering it
 *
 * Hashes are base64. An entry's leaf is SHA-256(0x00 || canonical JSON of {"event", "seq"}).
 */
export const EXPORT_FORMAT = 'custos-audit-export/1';

const line = (record: object) => `${canonicalize(record)}\n`;

/** Checks the range and finds the checkpoints an export of it holds (before anything is written). */
export async function planExport(log: AuditLog, from: number | undefined, to: number | undefined): Promise<{ from: number; to: number; sizes: number[]; notes: string[] }> {
  const all: Array<{ treeSize: number; note: string }> = [];
  for (let after = 0; ; ) {
    const page = await log.tree.checkpoints({ after, limit: 1000 });
    all.push(...page.items);
    if (!page.next) break;
    after = Number(page.next);
  }
  if (all.length === 0) throw new NoCheckpointError('no checkpoint has been made yet: nothing can be exported with proofs');
  const last = all[all.length - 1].treeSize;
  const start = from ?? 1;
  const end = to ?? last;
  if (start > end) throw new AuditRangeError(`from ${start} is after to ${end}`);
  if (end > last) throw new AuditRangeError(`to ${end} is beyond the latest checkpoint (tree size ${last}): no signed checkpoint covers it yet`);
  const cover = all.findIndex((c) => c.treeSize >= end);
  const chosen = all.filter((c, i) => c.treeSize >= start && i <= cover);
  return { from: start, to: end, sizes: chosen.map((c) => c.treeSize), notes: chosen.map((c) => c.note) };
}

/** The export's lines, produced a page of entries at a time. */
export async function* exportLines(log: AuditLog, plan: { from: number; to: number; sizes: number[]; notes: string[] }, pageSize = 500): AsyncGenerator<string> {
  yield line({ format: EXPORT_FORMAT, from: plan.from, kind: 'export', to: plan.to });
  for (const note of plan.notes) yield line({ kind: 'checkpoint', note });
  for (let i = 1; i < plan.sizes.length; i++) {
    const { proof } = await log.tree.consistency(plan.sizes[i - 1], plan.sizes[i]);
    yield line({ from: plan.sizes[i - 1], kind: 'consistency', proof, to: plan.sizes[i] });
  }
  const covering = (seq: number) => plan.sizes.find((size) => size >= seq)!;
  for (let seq = plan.from; seq <= plan.to; ) {
    const entries = await log.entries(seq, plan.to, pageSize);
    if (entries.length === 0) throw new Error(`the audit log has no entry ${seq}`);
    const proofs = await log.tree.inclusionProofs(log.db, entries.map((e) => e.seq), covering);
    for (const [i, { seq: s, event }] of entries.entries()) {
      if (s !== seq + i) throw new Error(`the audit log has no entry ${seq + i}`);
      yield line({ event, kind: 'entry', seq: s });
      yield line({ kind: 'inclusion', proof: proofs[i].path, seq: s, treeSize: proofs[i].treeSize });
    }
    seq += entries.length;
  }
}

export type ExportVerdict = { ok: true; entries: number; checkpoints: number; from: number; to: number } | { ok: false; line: number; reason: string };

const KEYS: Record<string, string[]> = {
  export: ['format', 'from', 'kind', 'to'],
  checkpoint: ['kind', 'note'],
  consistency: ['from', 'kind', 'proof', 'to'],
  entry: ['event', 'kind', 'seq'],
  inclusion: ['kind', 'proof', 'seq', 'treeSize'],
};

class Refused extends Error {}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

function hashes(value: unknown): Buffer[] {
  if (!Array.isArray(value)) throw new Refused('its proof is not a list');
  return value.map((h) => {
    if (typeof h !== 'string') throw new Refused('its proof holds a non-string');
    const bytes = strictBase64(h);
    if (bytes.length !== 32) throw new Refused('its proof holds a hash that is not 32 bytes');
    return bytes;
  });
}

/**
 * Verifies an export offline, knowing only the verifier keys: every line canonical and of a known
 * kind; every checkpoint signed by one of the keys, all of one origin, growing; each successive
 * two consistent; every entry from..to present in order and included in the first checkpoint
 * covering it. The first failure ends it, with its line number.
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  keys: readonly NoteVerifier[],
  /** Witnesses of whom at least `quorum` must have cosigned the last checkpoint (C2SP tlog-cosignature). */
  witnesses?: { keys: readonly WitnessKey[]; quorum: number; now: Date },
): Promise<ExportVerdict> {
  let n = 0;
  let header: { from: number; to: number } | undefined;
  const checkpoints: Array<{ size: number; root: Buffer }> = [];
  let origin: string | undefined;
  let consistencies = 0;
  let nextSeq = 0;
  let pending: { seq: number; leaf: Buffer } | undefined;
  let stage: 'checkpoint' | 'consistency' | 'entries' = 'checkpoint';
  let lastCosigners: string[] = [];
  try {
    for await (const text of lines) {
      n++;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new Refused('not JSON');
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Refused('not a JSON object');
      if (canonicalize(record) !== text) throw new Refused('not in RFC 8785 canonical form: the line was changed');
      const kind = record.kind as string;
      const expectedKeys = typeof kind === 'string' && Object.hasOwn(KEYS, kind) ? KEYS[kind] : undefined;
      if (!expectedKeys || Object.keys(record).join(',') !== expectedKeys.join(',')) throw new Refused(`not a record of this format (kind ${JSON.stringify(kind)})`);
      if (n === 1) {
        if (kind !== 'export' || record.format !== EXPORT_FORMAT || !isCount(record.from) || !isCount(record.to) || record.from > record.to) throw new Refused(`the first line is not a ${EXPORT_FORMAT} header`);
        header = { from: record.from, to: record.to };
        nextSeq = header.from;
        continue;
      }
      if (kind === 'export') throw new Refused('a second header');
      if (kind === 'checkpoint') {
        if (stage !== 'checkpoint') throw new Refused('a checkpoint after the proofs');
        if (typeof record.note !== 'string') throw new Refused('its note is not text');
        let opened;
        let cp;
        try {
          opened = openNote(record.note, keys);
          cp = parseCheckpoint(opened.text);
        } catch (error) {
          throw new Refused(`checkpoint: ${(error as Error).message}`);
        }
        if (opened.verifiedBy.length === 0) throw new Refused(`checkpoint ${cp.size}: no signature by the given key${keys.length > 1 ? 's' : ''} verifies`);
        if (origin !== undefined && cp.origin !== origin) throw new Refused(`checkpoint ${cp.size} is of origin ${cp.origin}, the others of ${origin}`);
        origin = cp.origin;
        const previous = checkpoints[checkpoints.length - 1];
        if (previous && cp.size <= previous.size) throw new Refused(`checkpoint ${cp.size} does not follow checkpoint ${previous.size}`);
        checkpoints.push({ size: cp.size, root: cp.root });
        if (witnesses) lastCosigners = cosignersOf(record.note, opened.text, witnesses);
        continue;
      }
      if (checkpoints.length === 0) throw new Refused('no checkpoint precedes the proofs');
      if (kind === 'consistency') {
        if (stage === 'entries') throw new Refused('a consistency proof among the entries');
        stage = 'consistency';
        const [a, b] = [checkpoints[consistencies], checkpoints[consistencies + 1]];
        if (!b || record.from !== a.size || record.to !== b.size) throw new Refused(`expected the consistency proof from ${a.size} to ${b?.size ?? '(none)'}`);
        if (!verifyConsistency(a.size, b.size, a.root, b.root, hashes(record.proof))) throw new Refused(`checkpoint ${b.size} is not consistent with checkpoint ${a.size}: the log was rewritten`);
        consistencies++;
        continue;
      }
      if (consistencies !== checkpoints.length - 1) throw new Refused(`missing the consistency proof from checkpoint ${checkpoints[consistencies].size} to ${checkpoints[consistencies + 1].size}`);
      stage = 'entries';
      if (kind === 'entry') {
        if (pending) throw new Refused(`entry ${pending.seq} has no inclusion proof`);
        if (record.seq !== nextSeq || nextSeq > header!.to) throw new Refused(`expected entry ${nextSeq <= header!.to ? nextSeq : '(none: the export ends at ' + header!.to + ')'}, found ${JSON.stringify(record.seq)}`);
        if (typeof record.event !== 'object' || record.event === null) throw new Refused(`entry ${nextSeq}: its event is not an object`);
        pending = { seq: nextSeq, leaf: leafHash(entryBytes(nextSeq, record.event)) };
        nextSeq++;
        continue;
      }
      // inclusion
      if (!pending || record.seq !== pending.seq) throw new Refused(`an inclusion proof without its entry`);
      const cover = checkpoints.find((c) => c.size >= pending!.seq);
      if (!cover || record.treeSize !== cover.size) throw new Refused(`entry ${pending.seq}: its proof is not for the first checkpoint covering it (${cover?.size ?? 'none'})`);
      if (!verifyInclusion(pending.leaf, pending.seq - 1, cover.size, hashes(record.proof), cover.root)) {
        throw new Refused(`entry ${pending.seq} is not included in checkpoint ${cover.size}: it was changed`);
      }
      pending = undefined;
    }
    if (!header) throw new Refused('empty export');
    if (pending) throw new Refused(`entry ${pending.seq} has no inclusion proof`);
    if (nextSeq !== header.to + 1) throw new Refused(`entries ${nextSeq}..${header.to} are missing`);
    if (checkpoints[checkpoints.length - 1].size < header.to) throw new Refused(`no checkpoint covers entry ${header.to}`);
    if (consistencies !== checkpoints.length - 1) throw new Refused('a consistency proof is missing');
    if (witnesses && lastCosigners.length < witnesses.quorum) {
      throw new Refused(`checkpoint ${checkpoints[checkpoints.length - 1].size} is cosigned by ${lastCosigners.length} of the given witnesses (${lastCosigners.join(', ') || 'none'}), fewer than ${witnesses.quorum}`);
    }
    return { ok: true, entries: header.to - header.from + 1, checkpoints: checkpoints.length, from: header.from, to: header.to };
  } catch (error) {
    // Whatever a changed line makes the checks throw (a bad base64 hash, say) is a failure of that line.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E')) throw error;
    return { ok: false, line: n, reason: (error as Error).message };
  }
}

/** The given witnesses whose cosignature line on the note verifies (each counted once); other lines are passed over. */
function cosignersOf(note: string, text: string, witnesses: { keys: readonly WitnessKey[]; now: Date }): string[] {
  const found = new Set<string>();
  for (const line of note.slice(note.lastIndexOf('\n\n') + 2).split('\n')) {
    if (!line) continue;
    try {
      found.add(openCosignature(line, text, witnesses.keys, witnesses.now).witness.name);
    } catch {
      // the log's own signature, or a cosignature by none of these witnesses
    }
  }
  return [...found];
}

/** The lines of an export read from a stream of its bytes; a last line without its newline is refused. */
export async function* linesOf(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let rest = '';
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = rest.indexOf('\n')) >= 0) {
      yield rest.slice(0, at);
      rest = rest.slice(at + 1);
    }
  }
  rest += decoder.decode();
  if (rest !== '') throw new Refused('the last line does not end with a newline: the export was cut or changed');
}
