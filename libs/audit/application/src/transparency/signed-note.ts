import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign, verify } from 'node:crypto';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, and C2SP tlog checkpoints
 * (https://c2sp.org/tlog-checkpoint) as their text. Interoperable with Go's
 * golang.org/x/mod/sumdb/note: the same key ids, verifier keys and private key strings.
 */

const ED25519 = 0x01;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface NoteVerifier {
  name: string;
  /** The 4-byte key id, as an unsigned number. */
  keyId: number;
  /** The raw 32-byte Ed25519 public key. */
  publicKey: Buffer;
}

export interface NoteSigner extends NoteVerifier {
  privateKey: KeyObject;
}

/** A key name: non-empty, no Unicode spaces, no `+`. */
export function checkKeyName(name: string): string {
  if (!name || /[\s+]/u.test(name)) throw new Error(`a signed-note key name must be non-empty, without spaces or '+': ${JSON.stringify(name)}`);
  return name;
}

/** The key id: the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). */
export function keyIdOf(name: string, publicKey: Uint8Array): number {
  return createHash('sha256').update(name).update(Buffer.of(0x0a, ED25519)).update(publicKey).digest().readUInt32BE(0);
}

export const hex8 = (keyId: number) => keyId.toString(16).padStart(8, '0');

/** `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function verifierKeyOf({ name, publicKey }: { name: string; publicKey: Uint8Array }): string {
  return `${name}+${hex8(keyIdOf(name, publicKey))}+${Buffer.concat([Buffer.of(ED25519), publicKey]).toString('base64')}`;
}

/** Decodes standard base64 strictly: anything but the canonical encoding of its bytes is refused. */
export function strictBase64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new Error(`not canonical base64: ${JSON.stringify(text.slice(0, 60))}`);
  return bytes;
}

/** Splits at the first `count - 1` plus signs: the base64 key at the end may hold more. */
function splitPlus(text: string, count: number): string[] {
  const parts = text.split('+');
  return parts.length < count ? parts : [...parts.slice(0, count - 1), parts.slice(count - 1).join('+')];
}

export function parseVerifierKey(text: string): NoteVerifier {
  const parts = splitPlus(text.trim(), 3);
  if (parts.length !== 3 || !/^[0-9a-f]{8}$/.test(parts[1])) throw new Error('a verifier key is <name>+<8 hex digits>+<base64 key>');
  const name = checkKeyName(parts[0]);
  const key = strictBase64(parts[2]);
  if (key.length !== 33 || key[0] !== ED25519) throw new Error('only Ed25519 verifier keys (algorithm 1, 32 bytes) are supported');
  const publicKey = key.subarray(1);
  if (hex8(keyIdOf(name, publicKey)) !== parts[1]) throw new Error(`the verifier key's id ${parts[1]} does not match its name and key`);
  return { name, keyId: keyIdOf(name, publicKey), publicKey };
}

function signerOf(name: string, privateKey: KeyObject): NoteSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the audit signing key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  return { name: checkKeyName(name), keyId: keyIdOf(name, publicKey), publicKey, privateKey };
}

/**
 * A signer from a PKCS#8 PEM Ed25519 private key (named `name`), or from a signed-note private
 * key string `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || 32-byte seed)>` (which names itself).
 */
export function parseSigningKey(text: string, name?: string): NoteSigner {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    if (!name) throw new Error('a PEM signing key needs a key name');
    return signerOf(name, createPrivateKey(trimmed));
  }
  const parts = splitPlus(trimmed, 5);
  if (parts.length !== 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY' || !/^[0-9a-f]{8}$/.test(parts[3])) {
    throw new Error('the audit signing key must be a PKCS#8 PEM Ed25519 key or PRIVATE+KEY+<name>+<hex id>+<base64 key>');
  }
  const key = strictBase64(parts[4]);
  if (key.length !== 33 || key[0] !== ED25519) throw new Error('only Ed25519 private keys (algorithm 1, 32 bytes) are supported');
  const signer = signerOf(parts[2], createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, key.subarray(1)]), format: 'der', type: 'pkcs8' }));
  if (hex8(signer.keyId) !== parts[3]) throw new Error(`the private key's id ${parts[3]} does not match its name and key`);
  return signer;
}

/** A new Ed25519 key, and its signed-note private key string (to store) . */
export function generateSigningKey(name: string): { signer: NoteSigner; privateKeyText: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const signer = signerOf(name, privateKey);
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  return { signer, privateKeyText: `PRIVATE+KEY+${name}+${hex8(signer.keyId)}+${Buffer.concat([Buffer.of(ED25519), seed]).toString('base64')}` };
}

/** Signs a note's text (which ends in a newline): the text, a blank line, and `— <name> <base64(key id || signature)>`. */
export function signNote(text: string, signer: NoteSigner): string {
  if (!text.endsWith('\n')) throw new Error('a note text ends with a newline');
  const signature = sign(null, Buffer.from(text), signer.privateKey);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(signer.keyId);
  return `${text}\n\u2014 ${signer.name} ${Buffer.concat([id, signature]).toString('base64')}\n`;
}

export interface OpenedNote {
  text: string;
  /** The signatures by a known key that verify. */
  verifiedBy: NoteVerifier[];
  /** Signature lines by a known key that do not verify. */
  bad: string[];
}

/** Splits a signed note and checks its signatures against the known keys; throws on a malformed note. */
export function openNote(note: string, known: readonly NoteVerifier[]): OpenedNote {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('a signed note is its text, a blank line and signature lines');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const verifiedBy: NoteVerifier[] = [];
  const bad: string[] = [];
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!match) throw new Error(`not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
    const blob = strictBase64(match[2]);
    if (blob.length < 5) throw new Error('a signature line holds a key id and a signature');
    const keyId = blob.readUInt32BE(0);
    for (const key of known.filter((k) => k.name === match[1] && k.keyId === keyId)) {
      const ok = blob.length === 68 && verify(null, Buffer.from(text), { key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key.publicKey]), format: 'der', type: 'spki' }, blob.subarray(4));
      if (ok) verifiedBy.push(key);
      else bad.push(`${key.name}+${hex8(key.keyId)}`);
    }
  }
  return { text, verifiedBy, bad };
}

export interface Checkpoint {
  origin: string;
  size: number;
  root: Buffer;
}

/** The text of a C2SP tlog checkpoint: origin, tree size, base64 root hash, each on its line. */
export function checkpointText({ origin, size, root }: Checkpoint): string {
  if (!origin || /[\n]/.test(origin)) throw new Error('a checkpoint origin is one non-empty line');
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

/** Reads a checkpoint's text (extension lines after the third are allowed and ignored). */
export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') throw new Error('a checkpoint has an origin, a size and a root hash line');
  const [origin, sizeText, rootText] = lines;
  if (!origin) throw new Error('a checkpoint names its origin');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) throw new Error(`not a tree size: ${JSON.stringify(sizeText)}`);
  const root = strictBase64(rootText);
  if (root.length !== 32) throw new Error('a checkpoint root hash is 32 bytes');
  return { origin, size: Number(sizeText), root };
}
