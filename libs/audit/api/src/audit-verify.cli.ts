import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { linesOf, NoteVerifier, parseVerifierKey, parseWitnessKey, verifyExport, type WitnessKey } from '@custos/audit/application';

export const AUDIT_VERIFY_USAGE = `usage: custos audit verify <export.ndjson> --key <verifier key> [--key <verifier key>...]
                           [--witness <witness key> ... [--quorum <n>]]

Verifies an export of GET /audit/export offline: every checkpoint signed by one of the keys, each
consistent with the one before, every entry included in the checkpoint covering it.
--key is a verifier key (<name>+<hex key id>+<base64 key>, as GET /audit/keys lists them) or a file
holding them, one a line; give every key that signed a checkpoint of the export (after a rotation,
the old and the new). --witness is a witness's C2SP tlog-cosignature verifier key (or a file of
them): the export's last checkpoint must then carry verifying cosignatures of at least --quorum of
them (default: all). Exit 0 when it verifies, 1 with the first failure named, 2 on bad usage.
`;

export interface VerifyIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

const processIo: VerifyIo = { stdout: process.stdout, stderr: process.stderr };

function keysOf<K>(value: string, parse: (text: string) => K): K[] {
  if (!value.includes('+') && existsSync(value)) {
    return readFileSync(value, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).map(parse);
  }
  return [parse(value)];
}

/** `custos audit verify <export.ndjson> --key <verifier key>`: 0 verified, 1 not, 2 bad usage. */
export async function runAuditVerify(argv: string[], io: VerifyIo = processIo): Promise<number> {
  const keys: NoteVerifier[] = [];
  const witnesses: WitnessKey[] = [];
  let quorum: number | undefined;
  const files: string[] = [];
  try {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      if (arg === '--help' || arg === '-h') {
        io.stdout.write(AUDIT_VERIFY_USAGE);
        return 0;
      }
      if (arg === '--key' || arg.startsWith('--key=')) {
        const value = arg === '--key' ? argv[++i] : arg.slice('--key='.length);
        if (!value) throw new Error('--key needs a verifier key');
        keys.push(...keysOf(value, parseVerifierKey));
      } else if (arg === '--witness' || arg.startsWith('--witness=')) {
        const value = arg === '--witness' ? argv[++i] : arg.slice('--witness='.length);
        if (!value) throw new Error('--witness needs a witness key');
        witnesses.push(...keysOf(value, parseWitnessKey));
      } else if (arg === '--quorum' || arg.startsWith('--quorum=')) {
        const value = arg === '--quorum' ? argv[++i] : arg.slice('--quorum='.length);
        if (!value || !/^[1-9][0-9]{0,3}$/.test(value)) throw new Error('--quorum needs a whole number above 0');
        quorum = Number(value);
      } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
      else files.push(arg);
    }
    if (files.length !== 1) throw new Error('name one export file');
    if (keys.length === 0) throw new Error('give the verifier key with --key');
    if (!existsSync(files[0])) throw new Error(`no file ${files[0]}`);
    if (quorum !== undefined && quorum > witnesses.length) throw new Error(`--quorum ${quorum} is more than the ${witnesses.length} witness key(s) given`);
  } catch (error) {
    io.stderr.write(`custos audit verify: ${(error as Error).message}\n\n${AUDIT_VERIFY_USAGE}`);
    return 2;
  }
  let verdict;
  try {
    const cosigners = witnesses.length > 0 ? { keys: witnesses, quorum: quorum ?? witnesses.length, now: new Date() } : undefined;
    verdict = await verifyExport(linesOf(createReadStream(files[0])), keys, cosigners);
  } catch (error) {
    io.stderr.write(`custos audit verify: cannot read ${files[0]}: ${(error as Error).message}\n`);
    return 1;
  }
  if (!verdict.ok) {
    io.stderr.write(`${files[0]}: NOT VERIFIED: line ${verdict.line}: ${verdict.reason}\n`);
    return 1;
  }
  const witnessed = witnesses.length > 0 ? `, the last cosigned by at least ${quorum ?? witnesses.length} of ${witnesses.length} witness(es)` : '';
  io.stdout.write(`${files[0]}: verified: entries ${verdict.from}..${verdict.to} (${verdict.entries}), ${verdict.checkpoints} checkpoint(s) signed and consistent${witnessed}\n`);
  return 0;
}
