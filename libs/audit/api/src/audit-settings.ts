import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateSigningKey, NoteSigner, parseSigningKey, parseWitnessKey, TransparencySettings, type WitnessKey } from '@custos/audit/application';
import { isoDurationEnd } from '@custos/platform/domain';

/** The audit module's settings, for what it provides (the checkpoints' lifecycle, the reports' SLO). */
export const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

/** How the audit log makes its checkpoints, read from the environment (README, "Audit log"). */
export interface AuditSettings {
  origin: string;
  /** CUSTOS_AUDIT_SIGNING_KEY: the key itself (PKCS#8 PEM or PRIVATE+KEY+...). */
  key?: string;
  /** CUSTOS_AUDIT_SIGNING_KEY_FILE: a file holding it. */
  keyFile?: string;
  /** CUSTOS_AUDIT_KEY_NAME: the note key name of a PEM key (default: the origin). */
  keyName: string;
  /** Where a key is generated on first start when none is configured (the all-in-one's data directory); none: no key, no checkpoints. */
  generateIn?: string;
  keyFromSize?: number;
  checkpointEvery: number;
  checkpointMinutes: number;
  /** CUSTOS_AUDIT_WITNESSES: the witnesses' verifier keys (type 0x04), separated by commas or spaces. */
  witnesses: WitnessKey[];
  /** CUSTOS_AUDIT_DEPROVISIONING_SLO (ISO 8601, default PT1H): a leaver's access gone within it, from the termination taking effect. */
  deprovisioningSloSeconds: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number, { whole = true, zero = false } = {}): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  const ok = whole ? /^\d+$/.test(text) && Number.isSafeInteger(value) : /^\d+(\.\d+)?$/.test(text);
  if (!ok || (!zero && value === 0)) throw new Error(`${name} must be a ${whole ? 'whole ' : ''}number${zero ? '' : ' above 0'}, got ${env[name]}`);
  return value;
}

function witnessesOf(text: string | undefined): WitnessKey[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((key) => {
      try {
        return parseWitnessKey(key);
      } catch (error) {
        throw new Error(`CUSTOS_AUDIT_WITNESSES: ${(error as Error).message}: ${key.slice(0, 80)}`);
      }
    });
}

function durationSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const end = isoDurationEnd(0, text);
  if (!('end' in end)) throw new Error(`${name} must be an ISO 8601 duration (PT1H) of at most ten years, got ${env[name]}`);
  return end.end / 1000;
}

/**
 * Reads the audit settings: CUSTOS_AUDIT_ORIGIN (default `<host of CUSTOS_PUBLIC_URL>/audit`),
 * CUSTOS_AUDIT_SIGNING_KEY or CUSTOS_AUDIT_SIGNING_KEY_FILE, CUSTOS_AUDIT_KEY_NAME,
 * CUSTOS_AUDIT_KEY_FROM_SIZE, CUSTOS_AUDIT_CHECKPOINT_ENTRIES (1000) and
 * CUSTOS_AUDIT_CHECKPOINT_MINUTES (1; 0 turns the timer off), CUSTOS_AUDIT_DEPROVISIONING_SLO
 * (ISO 8601 duration, PT1H), CUSTOS_AUDIT_WITNESSES (witness verifier keys). `generateIn`: where a key is made
 * when none is configured (the all-in-one passes its data directory).
 */
export function readAuditSettings(env: NodeJS.ProcessEnv, defaults: { publicUrl: string; generateIn?: string }): AuditSettings {
  const origin = env.CUSTOS_AUDIT_ORIGIN?.trim() || `${new URL(defaults.publicUrl).hostname}/audit`;
  if (/\s/.test(origin)) throw new Error(`CUSTOS_AUDIT_ORIGIN must be one word (custos.example.com/audit), got ${JSON.stringify(origin)}`);
  const key = env.CUSTOS_AUDIT_SIGNING_KEY?.trim() || undefined;
  const keyFile = env.CUSTOS_AUDIT_SIGNING_KEY_FILE?.trim() || undefined;
  if (key && keyFile) throw new Error('set CUSTOS_AUDIT_SIGNING_KEY or CUSTOS_AUDIT_SIGNING_KEY_FILE, not both');
  return {
    origin,
    key,
    keyFile,
    keyName: env.CUSTOS_AUDIT_KEY_NAME?.trim() || origin,
    generateIn: defaults.generateIn,
    keyFromSize: env.CUSTOS_AUDIT_KEY_FROM_SIZE?.trim() ? positive(env, 'CUSTOS_AUDIT_KEY_FROM_SIZE', 0, { zero: true }) : undefined,
    checkpointEvery: positive(env, 'CUSTOS_AUDIT_CHECKPOINT_ENTRIES', 1000),
    checkpointMinutes: positive(env, 'CUSTOS_AUDIT_CHECKPOINT_MINUTES', 1, { whole: false, zero: true }),
    deprovisioningSloSeconds: durationSeconds(env, 'CUSTOS_AUDIT_DEPROVISIONING_SLO', 3600),
    witnesses: witnessesOf(env.CUSTOS_AUDIT_WITNESSES),
  };
}

/** The generated key's file under the data directory. */
export const GENERATED_KEY_FILE = 'audit-signing.key';

/**
 * The signer the settings name: the configured key, else the one generated under `generateIn`
 * (made on first start, mode 600, in the signed-note private key format), else none.
 */
export function loadSigner(settings: AuditSettings): { signer?: NoteSigner; generated?: string } {
  if (settings.key) return { signer: parseSigningKey(settings.key, settings.keyName) };
  if (settings.keyFile) return { signer: parseSigningKey(readFileSync(settings.keyFile, 'utf8'), settings.keyName) };
  if (!settings.generateIn) return {};
  const file = path.join(settings.generateIn, GENERATED_KEY_FILE);
  if (existsSync(file)) return { signer: parseSigningKey(readFileSync(file, 'utf8'), settings.keyName) };
  mkdirSync(settings.generateIn, { recursive: true });
  const { signer, privateKeyText } = generateSigningKey(settings.keyName);
  // Written aside then linked into place: a process starting at the same moment finds either no
  // key or the whole of one, and the one that loses the link uses the winner's.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${privateKeyText}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    unlinkSync(temp);
    return { signer: parseSigningKey(readFileSync(file, 'utf8'), settings.keyName) };
  }
  unlinkSync(temp);
  return { signer, generated: file };
}

export function transparencySettings(settings: AuditSettings, signer: NoteSigner | undefined): TransparencySettings {
  return { origin: settings.origin, signer, checkpointEvery: settings.checkpointEvery, keyFromSize: settings.keyFromSize, witnesses: settings.witnesses };
}
