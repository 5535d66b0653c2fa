/** A data key wrapped by a key-encryption key: `wrapped` is opaque to everyone but the key named by `kekId`. */
export interface WrappedKey {
  kekId: string;
  wrapped: Buffer;
}

/**
 * KeyEncryptionKey is the vault's port to whatever holds the key-encryption keys: a key file
 * (FileKeyEncryptionKey, CUSTOS_VAULT_KEK_FILE) today, a KMS (AWS KMS Encrypt/Decrypt, Vault
 * transit, a PKCS#11 HSM) later. It only ever sees data keys, never a secret's plaintext.
 */
export interface KeyEncryptionKey {
  /** The id of the key that wraps new data keys (and that re-wrapping moves old ones to). */
  readonly currentId: string;
  /** Wraps a data key with the current key. */
  wrap(dataKey: Buffer): Promise<WrappedKey>;
  /** Unwraps a data key wrapped by the current key or a retired one still held; throws for a key it does not hold or a wrapped key that was tampered with. */
  unwrap(key: WrappedKey): Promise<Buffer>;
}
