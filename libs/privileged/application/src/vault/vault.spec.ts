import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usePostgres } from '@custos/platform/testing';
import { rewrap, seal, SecretUnreadable, unseal } from './envelope';
import { FileKeyEncryptionKey, KekFileError } from './file-kek';
import { SecretMissing, Vault } from './vault';

const SECRET = 'correct horse battery staple 7f3c';
const key = (id: string) => ({ id, key: randomBytes(32) });

describe('envelope encryption (AES-256-GCM data keys wrapped by a key-encryption key)', () => {
  const kek = new FileKeyEncryptionKey([key('k1')]);

  it('seals a secret so that none of the stored bytes hold it, and opens it again', async () => {
    const sealed = await seal(kek, Buffer.from(SECRET), 'secret-a#1');
    for (const part of [sealed.wrappedKey, sealed.iv, sealed.ciphertext, sealed.tag]) expect(part.includes(Buffer.from(SECRET))).toBe(false);
    expect(sealed.kekId).toBe('k1');
    expect((await unseal(kek, sealed, 'secret-a#1')).toString()).toBe(SECRET);
  });

  it('gives every secret its own data key and IV: the same secret sealed twice differs', async () => {
    const [a, b] = [await seal(kek, Buffer.from(SECRET), 'x'), await seal(kek, Buffer.from(SECRET), 'x')];
    expect(a.wrappedKey.equals(b.wrappedKey)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
  });

  it('refuses a secret moved to another place (other associated data), an altered ciphertext, and an altered wrapped key', async () => {
    const sealed = await seal(kek, Buffer.from(SECRET), 'secret-a#1');
    await expect(unseal(kek, sealed, 'secret-b#1')).rejects.toBeInstanceOf(SecretUnreadable);
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[0] ^= 1;
    await expect(unseal(kek, { ...sealed, ciphertext: flipped }, 'secret-a#1')).rejects.toBeInstanceOf(SecretUnreadable);
    const wrapped = Buffer.from(sealed.wrappedKey);
    wrapped[wrapped.length - 1] ^= 1;
    await expect(unseal(kek, { ...sealed, wrappedKey: wrapped }, 'secret-a#1')).rejects.toThrow(/does not authenticate/);
  });

  it('re-wraps a data key under a new key without touching the ciphertext; the old key is then no longer needed', async () => {
    const old = key('k1');
    const sealed = await seal(new FileKeyEncryptionKey([old]), Buffer.from(SECRET), 'a');
    const fresh = key('k2');
    const moved = await rewrap(new FileKeyEncryptionKey([fresh, old]), sealed);
    expect(moved.kekId).toBe('k2');
    expect(moved.ciphertext.equals(sealed.ciphertext)).toBe(true);
    expect((await unseal(new FileKeyEncryptionKey([fresh]), moved, 'a')).toString()).toBe(SECRET);
    await expect(unseal(new FileKeyEncryptionKey([fresh]), sealed, 'a')).rejects.toThrow(/k1 is not in the key file/);
  });
});

describe('FileKeyEncryptionKey (CUSTOS_VAULT_KEK_FILE)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'custos-kek-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the current key from the first line and retired keys after it; a bare key gets an id from its hash', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    writeFileSync(join(dir, 'kek'), `# comment\n\nk-new ${a.toString('base64')}\n${b.toString('base64')}\n`);
    const kek = FileKeyEncryptionKey.fromFile(join(dir, 'kek'));
    expect(kek.currentId).toBe('k-new');
  });

  it('generates a key file only it can read (0600), and refuses to overwrite one', () => {
    const path = join(dir, 'kek');
    const id = FileKeyEncryptionKey.generateFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(FileKeyEncryptionKey.fromFile(path).currentId).toBe(id);
    expect(() => FileKeyEncryptionKey.generateFile(path)).toThrow(/EEXIST/);
  });

  it.each([
    ['a missing file', undefined, /cannot read the vault key file .*ENOENT/],
    ['an empty file', '# nothing\n', /holds no key/],
    ['a short key', `k1 ${randomBytes(16).toString('base64')}\n`, /line 1 .* 16 bytes, not 32/],
    ['a malformed line', 'k1 not base64 at all!\n', /line 1 .* is not "<id> <base64 key>"/],
    ['an id given twice', `k1 ${randomBytes(32).toString('base64')}\nk1 ${randomBytes(32).toString('base64')}\n`, /k1 is given twice/],
  ])('refuses %s, naming the file and never a key', (_case, content, message) => {
    const path = join(dir, 'kek');
    if (content !== undefined) writeFileSync(path, content);
    let error: unknown;
    try {
      FileKeyEncryptionKey.fromFile(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KekFileError);
    expect((error as Error).message).toMatch(message);
    for (const token of (content ?? '').split(/\s+/).filter((t) => t.length >= 20)) expect((error as Error).message).not.toContain(token);
  });
});

describe('Vault (PostgreSQL)', () => {
  const pg = usePostgres('privileged_vault');

  async function vaultWith(kek: FileKeyEncryptionKey, schema = pg.schema) {
    const vault = new Vault(pg.db, schema, kek);
    await vault.migrate();
    return vault;
  }

  it('stores versions of a secret sealed, none of its columns holding the plaintext, and reveals each', async () => {
    const vault = await vaultWith(new FileKeyEncryptionKey([key('k1')]));
    await pg.db.transaction(async (tx) => {
      expect(await vault.put(tx, 'account:db-admin', 1, SECRET)).toBe(true);
      expect(await vault.put(tx, 'account:db-admin', 2, 'second')).toBe(true);
    });
    expect(await vault.reveal('account:db-admin', 1)).toBe(SECRET);
    expect(await vault.reveal('account:db-admin', 2)).toBe('second');
    const { rows } = await pg.db.query<{ dump: string }>(`SELECT encode(convert_to(row_to_json(s)::text, 'UTF8'), 'escape') AS dump FROM ${pg.schema}.vault_secrets s`);
    for (const { dump } of rows) expect(dump).not.toContain('horse');
    const raw = await pg.db.query<{ ciphertext: Uint8Array }>(`SELECT ciphertext FROM ${pg.schema}.vault_secrets`);
    for (const row of raw.rows) expect(Buffer.from(row.ciphertext).includes(Buffer.from('horse'))).toBe(false);
  });

  it('writes a version once: a retry keeps the first password', async () => {
    const vault = await vaultWith(new FileKeyEncryptionKey([key('k1')]));
    await pg.db.transaction((tx) => vault.put(tx, 's', 1, 'first'));
    expect(await pg.db.transaction((tx) => vault.put(tx, 's', 1, 'second'))).toBe(false);
    expect(await vault.reveal('s', 1)).toBe('first');
  });

  it('deletes old versions, and answers SecretMissing for what is gone', async () => {
    const vault = await vaultWith(new FileKeyEncryptionKey([key('k1')]));
    await pg.db.transaction(async (tx) => {
      await vault.put(tx, 's', 1, 'a');
      await vault.put(tx, 's', 2, 'b');
    });
    expect(await pg.db.transaction((tx) => vault.delete(tx, 's', 2))).toBe(1);
    await expect(vault.reveal('s', 1)).rejects.toBeInstanceOf(SecretMissing);
    expect(await vault.reveal('s', 2)).toBe('b');
  });

  it('re-wraps every data key to a rotated key-encryption key, ciphertexts unchanged; afterwards the old key can go', async () => {
    const old = key('k1');
    const before = await vaultWith(new FileKeyEncryptionKey([old]));
    await pg.db.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await before.put(tx, `s${i}`, 1, `secret-${i}`);
    });
    const ciphertexts = await pg.db.query<{ ciphertext: Uint8Array }>(`SELECT ciphertext FROM ${pg.schema}.vault_secrets ORDER BY secret_id`);
    const fresh = key('k2');
    const rotated = await vaultWith(new FileKeyEncryptionKey([fresh, old]));
    expect(await rotated.rewrapAll(2)).toBe(5);
    expect(await rotated.rewrapAll(2)).toBe(0);
    const after = await pg.db.query<{ ciphertext: Uint8Array; kek_id: string }>(`SELECT ciphertext, kek_id FROM ${pg.schema}.vault_secrets ORDER BY secret_id`);
    expect(after.rows.map((r) => r.kek_id)).toEqual(Array(5).fill('k2'));
    expect(after.rows.map((r) => Buffer.from(r.ciphertext).toString('hex'))).toEqual(ciphertexts.rows.map((r) => Buffer.from(r.ciphertext).toString('hex')));
    const onlyNew = await vaultWith(new FileKeyEncryptionKey([fresh]));
    expect(await onlyNew.reveal('s3', 1)).toBe('secret-3');
  });

  it('keeps the key file out of what it stores', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'custos-kek-'));
    try {
      FileKeyEncryptionKey.generateFile(join(dir, 'kek'));
      const encoded = readFileSync(join(dir, 'kek'), 'utf8').trim().split(/\s+/).pop()!;
      const vault = await vaultWith(FileKeyEncryptionKey.fromFile(join(dir, 'kek')));
      await pg.db.transaction((tx) => vault.put(tx, 's', 1, SECRET));
      const { rows } = await pg.db.query<{ dump: string }>(`SELECT row_to_json(s)::text AS dump FROM ${pg.schema}.vault_secrets s`);
      expect(rows[0].dump).not.toContain(encoded);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
