import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * scramSha256Verifier: the SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802,
 * RFC 7677), `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. Giving the server the
 * verifier instead of the password (`CREATE ROLE ... PASSWORD '<verifier>'`) keeps the password
 * itself out of the target's statement logs and pg_stat_statements. The passwords Custos makes
 * are ASCII, so SASLprep leaves them as they are.
 */
export function scramSha256Verifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
