/** targetStreamId: each managed system (a PostgreSQL server's database) is its own stream. */
export function targetStreamId(key: string): string {
  return `target-${key}`;
}

/** vaultAccountStreamId: each shared privileged account (its check-outs, check-ins and rotations) is its own stream. */
export function vaultAccountStreamId(key: string): string {
  return `vault-account-${key}`;
}

/** jitAccountStreamId: the just-in-time account of one grant lives and dies in its own stream. */
export function jitAccountStreamId(grantId: string): string {
  return `jit-account-${grantId}`;
}

/** The stream categories of the privileged context, for subscription filters only: build ids with the functions above. */
export const PRIVILEGED_STREAM_PREFIXES = {
  target: 'target-',
  vaultAccount: 'vault-account-',
  jitAccount: 'jit-account-',
} as const;

/** The vault secret id of a target's admin password. */
export function targetAdminSecretId(key: string): string {
  return `target:${key}:admin`;
}

/** The vault secret id of a vault account's password (one version per rotation). */
export function vaultAccountSecretId(key: string): string {
  return `account:${key}`;
}

/** The vault secret id of a just-in-time account's password, kept until it is delivered. */
export function jitAccountSecretId(grantId: string): string {
  return `jit:${grantId}`;
}
