import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, usernamePasswordAuthenticator, type Authenticator } from '@nats-io/nats-core';

/**
 * How a NatsBus proves who it is to the NATS server (README, "Run it distributed"):
 *
 * - `file`: `NATS_CREDS_FILE`, a file holding either an nkey user seed (`SU...`, the server's
 *   configuration lists its public key `U...`: deploy/nats/custos-auth.conf) or a `.creds` file
 *   (a user JWT and its seed, for servers run in operator/JWT mode);
 * - `user`: `NATS_USER` with `NATS_PASSWORD_FILE` (or `NATS_PASSWORD`).
 *
 * Secrets are never values of this object: a password is behind a function and a file is read
 * when the connection (or a reconnection) authenticates, so printing or logging the options shows
 * no secret, and a rotated file is used at the next reconnection without a restart.
 */
export type NatsAuth =
  | { kind: 'file'; variable: string; file: string }
  | { kind: 'user'; user: string; password: () => string; passwordFrom: string };

/** What a credentials file holds, told apart by its content. */
export type NatsCredentialsFile = { kind: 'creds'; content: Uint8Array } | { kind: 'seed'; seed: Uint8Array };

const CREDS_MARKER = /-----BEGIN NATS USER JWT-----/;
const USER_SEED = /^SU[A-Z2-7]{56}$/;

/**
 * readCredentialsFile reads a `.creds` file or an nkey user seed file. Errors name the variable
 * and the path, never the content.
 */
export function readCredentialsFile(variable: string, file: string): NatsCredentialsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`${variable}: cannot read ${file} (${code})`);
  }
  const text = bytes.toString('utf8');
  if (CREDS_MARKER.test(text)) return { kind: 'creds', content: new Uint8Array(bytes) };
  const trimmed = text.trim();
  if (USER_SEED.test(trimmed)) return { kind: 'seed', seed: new TextEncoder().encode(trimmed) };
  throw new Error(`${variable}: ${file} holds neither a NATS .creds file nor an nkey user seed (one line starting SU)`);
}

/**
 * natsAuthenticator turns `auth` into what `connect` takes. A file is read now (so that a missing
 * or malformed one fails the start with a clear error) and again at each reconnection; if it
 * cannot be read then, the last good content is used.
 */
export function natsAuthenticator(auth: NatsAuth): Authenticator {
  if (auth.kind === 'user') return usernamePasswordAuthenticator(auth.user, auth.password);
  let last = readCredentialsFile(auth.variable, auth.file);
  const current = (): NatsCredentialsFile => {
    try {
      const read = readCredentialsFile(auth.variable, auth.file);
      if (read.kind === last.kind) last = read;
    } catch {
      // keep the last good content: a reconnection is no time to fail over a file being replaced
    }
    return last;
  };
  if (last.kind === 'creds') return credsAuthenticator(() => (current() as Extract<NatsCredentialsFile, { kind: 'creds' }>).content);
  return nkeyAuthenticator(() => (current() as Extract<NatsCredentialsFile, { kind: 'seed' }>).seed);
}

/** describeNatsAuth says how a bus authenticates, without any secret: for logs and errors. */
export function describeNatsAuth(auth: NatsAuth | undefined): string {
  if (!auth) return 'no credentials';
  return auth.kind === 'user' ? `user ${auth.user} (password from ${auth.passwordFrom})` : `${auth.variable}=${auth.file}`;
}
