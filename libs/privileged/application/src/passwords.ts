import { randomBytes } from 'node:crypto';

/** newPassword: 32 characters of base64url from 24 random bytes (192 bits): what every account Custos manages gets. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}
