import { createHash, verify } from 'node:crypto';
import { checkKeyName, hex8, strictBase64 } from './signed-note';

/**
 * C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature), Ed25519: a witness's statement
 * that, as of its timestamp, the checkpoint is the largest consistent tree head it has seen of
 * the log. A cosignature is one more signature line on the checkpoint's signed note.
 */

/** The signature type byte of Ed25519 cosignatures (in key ids and verifier keys). */
const COSIGNATURE_ED25519 = 0x04;
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** The largest timestamp the format allows (2^63 - 1). */
const MAX_TIMESTAMP = (1n << 63n) - 1n;

export interface WitnessKey {
  name: string;
  keyId: number;
  publicKey: Buffer;
  /** `<name>+<hex key id>+<base64(0x04 || public key)>`. */
  verifierKey: string;
}

/** Why a cosignature is refused (a 422 at the edge; `unknown-witness` names no configured witness). */
export class CosignatureRefused extends Error {
  constructor(
    readonly code: 'malformed' | 'unknown-witness' | 'bad-signature' | 'future',
    message: string,
  ) {
    super(message);
    this.name = 'CosignatureRefused';
  }
}

/** The key id of an Ed25519 cosigner: SHA-256(name || 0x0A || 0x04 || public key)[:4]. */
export function witnessKeyIdOf(name: string, publicKey: Uint8Array): number {
  return createHash('sha256').update(name).update(Buffer.of(0x0a, COSIGNATURE_ED25519)).update(publicKey).digest().readUInt32BE(0);
}

/** A witness's verifier key, `<name>+<hex key id>+<base64(0x04 || 32-byte Ed25519 key)>`. */
export function parseWitnessKey(text: string): WitnessKey {
  const parts = text.trim().split('+');
  const [name, id, key] = parts.length > 3 ? [parts[0], parts[1], parts.slice(2).join('+')] : parts;
  if (parts.length < 3 || !/^[0-9a-f]{8}$/.test(id)) throw new Error('a witness key is <name>+<8 hex digits>+<base64 key>');
  checkKeyName(name);
  const bytes = strictBase64(key);
  if (bytes.length !== 33 || bytes[0] !== COSIGNATURE_ED25519) throw new Error('a witness key is an Ed25519 cosignature key (type 0x04, 32 bytes)');
  const publicKey = bytes.subarray(1);
  const keyId = witnessKeyIdOf(name, publicKey);
  if (hex8(keyId) !== id) throw new Error(`the witness key's id ${id} does not match its name and key`);
  return { name, keyId, publicKey, verifierKey: `${name}+${id}+${key}` };
}

/** The message a v1 cosignature signs: `cosignature/v1`, `time <timestamp>`, then the checkpoint's note text. */
export function cosignedMessage(checkpointText: string, timestamp: bigint): string {
  return `cosignature/v1\ntime ${timestamp}\n${checkpointText}`;
}

/**
 * Checks a cosignature line (`— <witness name> base64(key id || u64 timestamp || signature)`) on
 * the checkpoint whose note text is `checkpointText`, by one of `witnesses`, not timestamped
 * after `now` (with a minute's leeway for clocks).
 */
export function openCosignature(line: string, checkpointText: string, witnesses: readonly WitnessKey[], now: Date): { witness: WitnessKey; timestamp: number } {
  const match = /^\u2014 (\S+) (\S+)$/u.exec(line.trim());
  if (!match) throw new CosignatureRefused('malformed', 'a cosignature is one signature line: "— <witness name> <base64>"');
  let blob: Buffer;
  try {
    blob = strictBase64(match[2]);
  } catch (error) {
    throw new CosignatureRefused('malformed', (error as Error).message);
  }
  if (blob.length !== 4 + 8 + 64) throw new CosignatureRefused('malformed', 'an Ed25519 cosignature holds a key id, a timestamp and a 64-byte signature');
  const keyId = blob.readUInt32BE(0);
  const witness = witnesses.find((w) => w.name === match[1] && w.keyId === keyId);
  if (!witness) throw new CosignatureRefused('unknown-witness', `${match[1]}+${hex8(keyId)} is not a witness of this log (CUSTOS_AUDIT_WITNESSES)`);
  const timestamp = blob.readBigUInt64BE(4);
  if (timestamp > MAX_TIMESTAMP) throw new CosignatureRefused('malformed', 'the timestamp exceeds 2^63 - 1');
  if (timestamp > BigInt(Math.floor(now.getTime() / 1000) + 60)) throw new CosignatureRefused('future', `the cosignature is timestamped ${timestamp}, in the future`);
  const ok = verify(null, Buffer.from(cosignedMessage(checkpointText, timestamp)), { key: Buffer.concat([SPKI_ED25519_PREFIX, witness.publicKey]), format: 'der', type: 'spki' }, blob.subarray(12));
  if (!ok) throw new CosignatureRefused('bad-signature', `the cosignature of ${witness.name} does not verify on this checkpoint`);
  return { witness, timestamp: Number(timestamp) };
}
