import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { KeyEncryptionKey, WrappedKey } from './key-encryption-key';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key file could not be used; the message names the file and what is wrong with it, never a key. */
export class KekFileError extends Error {}

/**
 * FileKeyEncryptionKey keeps the vault's key-encryption keys in a file (CUSTOS_VAULT_KEK_FILE):
 * one key per line, `<id> <base64 of 32 random bytes>`, the first line the current key and the
 * lines after it retired keys kept to unwrap data keys not re-wrapped yet (blank lines and `#`
 * comments are ignored). A line of a key alone takes the id `k-<first 8 hex of its SHA-256>`.
 * Rotating: put a new key on the first line, run the re-wrap, then remove the old line.
 * Data keys are wrapped with AES-256-GCM (a fresh 96-bit IV each), the key id as associated
 * data, so a wrapped key cannot be passed off as another key's.
 */
export class FileKeyEncryptionKey implements KeyEncryptionKey {
  readonly currentId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(keys: ReadonlyArray<{ id: string; key: Buffer }>) {
    if (keys.length === 0) throw new KekFileError('the vault key file holds no key');
    const map = new Map<string, Buffer>();
    for (const { id, key } of keys) {
      if (key.length !== KEY_BYTES) throw new KekFileError(`vault key ${id} is ${key.length} bytes, not ${KEY_BYTES}`);
      if (map.has(id)) throw new KekFileError(`vault key id ${id} is given twice`);
      map.set(id, Buffer.from(key));
    }
    this.keys = map;
    this.currentId = keys[0].id;
  }

  /** Reads a key file (see the class); errors name the file and line, never the key. */
  static fromFile(path: string): FileKeyEncryptionKey {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new KekFileError(`cannot read the vault key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    const keys: Array<{ id: string; key: Buffer }> = [];
    text.split(/\r?\n/).forEach((raw, index) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      if (parts.length > 2 || !/^[A-Za-z0-9+/=]+$/.test(parts[parts.length - 1]) || (parts.length === 2 && !/^[A-Za-z0-9._-]{1,64}$/.test(parts[0]))) {
        throw new KekFileError(`line ${index + 1} of the vault key file ${path} is not "<id> <base64 key>"`);
      }
      const key = Buffer.from(parts[parts.length - 1], 'base64');
      if (key.length !== KEY_BYTES) throw new KekFileError(`line ${index + 1} of the vault key file ${path} holds ${key.length} bytes, not ${KEY_BYTES}`);
      keys.push({ id: parts.length === 2 ? parts[0] : fingerprint(key), key });
    });
    return new FileKeyEncryptionKey(keys);
  }

  /** Writes a new key file with one fresh key (mode 0600), for a first start; answers its key's id. */
  static generateFile(path: string, id = `k-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`): string {
    writeFileSync(path, `# Custos vault key-encryption keys: the first line is the current key. Keep this file secret.\n${id} ${randomBytes(KEY_BYTES).toString('base64')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    return id;
  }

  async wrap(dataKey: Buffer): Promise<WrappedKey> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(`custos-vault-kek:${this.currentId}`));
    const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { kekId: this.currentId, wrapped: Buffer.concat([iv, cipher.getAuthTag(), body]) };
  }

  async unwrap({ kekId, wrapped }: WrappedKey): Promise<Buffer> {
    const key = this.keys.get(kekId);
    if (!key) throw new KekFileError(`vault key ${kekId} is not in the key file: a data key wrapped by it cannot be opened`);
    if (wrapped.length < IV_BYTES + TAG_BYTES + 1) throw new KekFileError(`a data key wrapped by ${kekId} is truncated`);
    const decipher = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`custos-vault-kek:${kekId}`));
    decipher.setAuthTag(wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch {
      throw new KekFileError(`a data key wrapped by ${kekId} does not authenticate: it was altered, or wrapped by another key of that id`);
    }
  }
}

function fingerprint(key: Buffer): string {
  return `k-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}
