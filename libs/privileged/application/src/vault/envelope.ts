import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyEncryptionKey } from './key-encryption-key';

/** A secret as the vault stores it: its own data key, wrapped, and its AES-256-GCM ciphertext. No field is plaintext. */
export interface SealedSecret {
  kekId: string;
  wrappedKey: Buffer;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** A sealed secret would not open: altered, moved to another secret's place, or its key-encryption key is gone. Says nothing of the secret. */
export class SecretUnreadable extends Error {
  constructor(readonly reason: string) {
    super(`a vault secret could not be opened: ${reason}`);
  }
}

/**
 * seal encrypts a secret under a fresh 256-bit data key (AES-256-GCM, 96-bit random IV), with
 * `aad` (the secret's id and version) bound to it, and wraps the data key with the
 * key-encryption key. The data key is zeroed before returning.
 */
export async function seal(kek: KeyEncryptionKey, plaintext: Buffer, aad: string): Promise<SealedSecret> {
  const dataKey = randomBytes(32);
  try {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(Buffer.from(aad));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const { kekId, wrapped } = await kek.wrap(dataKey);
    return { kekId, wrappedKey: wrapped, iv, ciphertext, tag: cipher.getAuthTag() };
  } finally {
    dataKey.fill(0);
  }
}

/** unseal opens a sealed secret given the `aad` it was sealed with; a different `aad` (a swapped row) fails like tampering. */
export async function unseal(kek: KeyEncryptionKey, sealed: SealedSecret, aad: string): Promise<Buffer> {
  let dataKey: Buffer;
  try {
    dataKey = await kek.unwrap({ kekId: sealed.kekId, wrapped: sealed.wrappedKey });
  } catch (error) {
    throw new SecretUnreadable((error as Error).message);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, sealed.iv);
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch {
    throw new SecretUnreadable('the ciphertext does not authenticate');
  } finally {
    dataKey.fill(0);
  }
}

/**
 * rewrap moves a sealed secret's data key to the current key-encryption key: the data key is
 * unwrapped and wrapped again in memory; the secret's ciphertext is not decrypted and stays
 * byte for byte. A secret already under the current key is returned as it is.
 */
export async function rewrap(kek: KeyEncryptionKey, sealed: SealedSecret): Promise<SealedSecret> {
  if (sealed.kekId === kek.currentId) return sealed;
  const dataKey = await kek.unwrap({ kekId: sealed.kekId, wrapped: sealed.wrappedKey });
  try {
    const { kekId, wrapped } = await kek.wrap(dataKey);
    return { ...sealed, kekId, wrappedKey: wrapped };
  } finally {
    dataKey.fill(0);
  }
}
