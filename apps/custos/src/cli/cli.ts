import { AUDIT_VERIFY_USAGE, PROJECTIONS_REBUILD_USAGE, runAuditVerify, runProjectionsRebuild } from '@custos/audit/api';
import { HR_IMPORT_USAGE, runHrImport } from '@custos/identity/api';

/** The admin commands of `custos` (the launcher runs the server when given none of them). */
const COMMANDS: Record<string, { usage: string; run: (args: string[]) => Promise<number> }> = {
  'hr import': { usage: HR_IMPORT_USAGE, run: (args) => runHrImport(args) },
  'audit verify': { usage: AUDIT_VERIFY_USAGE, run: (args) => runAuditVerify(args) },
  'projections rebuild': { usage: PROJECTIONS_REBUILD_USAGE, run: (args) => runProjectionsRebuild(['rebuild', ...args]) },
};

/** True when the arguments name a command (`hr import ...`) rather than asking for the server. */
export function isCliCommand(args: string[]): boolean {
  return args[0] === 'hr' || args[0] === 'audit' || args[0] === 'projections';
}

/** Runs one command and returns its exit status. */
export async function runCli(args: string[]): Promise<number> {
  const command = COMMANDS[args.slice(0, 2).join(' ')];
  if (!command) {
    process.stderr.write(`custos: unknown command "${args.join(' ')}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  return command.run(args.slice(2));
}
