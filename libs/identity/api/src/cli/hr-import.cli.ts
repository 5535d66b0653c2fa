import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type CurrentIdentity,
  parseSnapshot,
  planChanges,
  type PlannedChange,
  LEAVER_THRESHOLD_MINIMUM_POPULATION,
  reconcile,
  type ReconcilePlan,
  SNAPSHOT_COLUMNS,
  toHrEvent,
} from '@custos/identity/application';
import { Presets, SingleBar } from 'cli-progress';
import { HR_SYSTEM_PATTERN } from '../hr-event.dto';
import { checkEmployee } from '../hr-event.validation';

export const HR_IMPORT_USAGE = `Usage: custos hr import <file.csv> [options]

Reconciles a full HR export of one HR system (--system, default csv) with a running Custos:
rows without an identity are joiners, changed rows movers, terminated identities back in the
file rehires, and (only with --allow-leavers) active identities missing from the file leavers.
Only identities whose system of record is that system are compared: an identity another system
hired (the workday webhook, SCIM) is never changed or made a leaver by the file, and a row about
one is reported and left alone. Each change is sent to POST /hr/events with an eventId derived
from its content, so running the same file again changes nothing.

The file needs a header row with the columns ${SNAPSHOT_COLUMNS.join(', ')}
(employeeId, givenName, familyName, email and employmentType are required; any order, any case).
An unknown column or any invalid row is reported with its line number, and nothing is imported.

Options:
  --dry-run          print the changes (joiners, movers with their changed fields, leavers) and send nothing
  --allow-leavers    make active identities of the system missing from the file leavers
  --threshold <pct>  stop when leavers exceed this share of the system's active identities
                     (default 5); with fewer than ${LEAVER_THRESHOLD_MINIMUM_POPULATION} active identities of the system it does
                     not apply, so a small trial can be reconciled
  --force            go on above the threshold
  --system <name>    the HR system the file comes from: the events are recorded from it, and
                     only the identities it hired are reconciled (default csv)
  --url <url>        Custos (default: CUSTOS_URL from the environment, else http://localhost:3000)
  --token <jwt>      bearer token with role custos:hr (default: CUSTOS_TOKEN from the environment)
  --dev              get a custos:hr token from the development issuer (POST /dev/token; CUSTOS_DEV_AUTH=true)
  --concurrency <n>  requests in flight (default 8)
  --json             print the plan and the outcome as JSON on stdout
  -h, --help         this text

Exit status: 0 done (or nothing to do), 1 invalid file or a change refused, 2 usage error,
3 too many leavers (see --threshold and --force).
`;

/** Where the command reads and writes; tests and other front ends pass their own. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  readFile(path: string): Promise<string>;
}

const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, readFile: (path) => readFile(path, 'utf8') };

class UsageError extends Error {}

interface Outcome {
  applied: number;
  scheduled: number;
  duplicate: number;
  failed: Array<{ line?: number; employeeId: string; type: string; status: number; detail: string }>;
}

/** `custos hr import`: returns the exit status. */
export async function runHrImport(argv: string[], io: CliIo = processIo): Promise<number> {
  let args: ReturnType<typeof readArgs>;
  try {
    args = readArgs(argv, io.env);
  } catch (error) {
    io.stderr.write(`custos hr import: ${(error as Error).message}\n\n${HR_IMPORT_USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(HR_IMPORT_USAGE);
    return 0;
  }
  const say = (text: string) => void (args.json ? io.stderr : io.stdout).write(`${text}\n`);

  let text: string;
  try {
    text = await io.readFile(args.file);
  } catch (error) {
    io.stderr.write(`custos hr import: cannot read ${args.file}: ${(error as Error).message}\n`);
    return 1;
  }
  const { rows, problems } = parseSnapshot(text, checkEmployee);
  if (problems.length > 0) {
    if (args.json) io.stdout.write(`${JSON.stringify({ file: args.file, problems }, null, 2)}\n`);
    io.stderr.write(`${args.file}: ${problems.length} problem(s); nothing was imported\n${problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n')}\n`);
    return 1;
  }

  try {
    const api = new CustosHttp(args.url, await tokenFor(args, io.env));
    const current = await api.identities();
    const plan = reconcile(current, rows, { system: args.system, allowLeavers: args.allowLeavers, force: args.force, thresholdPercent: args.threshold });
    say(describePlan(args, rows.length, current.length, plan));
    const changes = describeChanges(plan, args.dryRun ? Infinity : 20);
    if (changes) say(changes);
    const report = { file: args.file, system: args.system, dryRun: args.dryRun, rows: rows.length, identities: current.length, ...planJson(plan) };
    if (plan.blocked) {
      if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      io.stderr.write(`custos hr import: stopped, nothing was sent: ${plan.blocked}\n`);
      return 3;
    }
    if (args.dryRun) {
      if (args.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      say('dry run: nothing was sent');
      return 0;
    }
    const outcome = await send(api, planChanges(plan), args, io);
    say(`applied ${outcome.applied}, scheduled ${outcome.scheduled}, already applied ${outcome.duplicate}, failed ${outcome.failed.length}`);
    for (const f of outcome.failed) say(`  ${f.line ? `line ${f.line}` : 'leaver'} ${f.employeeId} (${f.type}): ${f.status || 'no answer'} ${f.detail}`);
    if (args.json) io.stdout.write(`${JSON.stringify({ ...report, outcome }, null, 2)}\n`);
    return outcome.failed.length > 0 ? 1 : 0;
  } catch (error) {
    io.stderr.write(`custos hr import: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

function readArgs(argv: string[], env: NodeJS.ProcessEnv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      'allow-leavers': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      threshold: { type: 'string', default: '5' },
      system: { type: 'string', default: 'csv' },
      url: { type: 'string', default: env.CUSTOS_URL ?? 'http://localhost:3000' },
      token: { type: 'string' },
      dev: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '8' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const help = values.help === true;
  if (!help && positionals.length !== 1) throw new Error(positionals.length === 0 ? 'the CSV file is missing' : `one file only, got ${positionals.join(' ')}`);
  const threshold = Number(values.threshold);
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 100) throw new Error(`--threshold must be a percentage from 0 to 100, got ${values.threshold}`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new Error(`--concurrency must be an integer from 1 to 64, got ${values.concurrency}`);
  const system = values.system as string;
  if (!HR_SYSTEM_PATTERN.test(system)) throw new Error(`--system must be 1-63 letters, digits, - or _, got ${system}`);
  let url: URL;
  try {
    url = new URL(values.url as string);
  } catch {
    throw new Error(`--url is not a URL: ${values.url}`);
  }
  return {
    help,
    file: positionals[0],
    dryRun: values['dry-run'] === true,
    allowLeavers: values['allow-leavers'] === true,
    force: values.force === true,
    threshold,
    system,
    url: url.toString().replace(/\/$/, ''),
    token: values.token,
    dev: values.dev === true,
    concurrency,
    json: values.json === true,
  };
}

async function tokenFor(args: ReturnType<typeof readArgs>, env: NodeJS.ProcessEnv): Promise<string> {
  if (args.token) return args.token;
  if (env.CUSTOS_TOKEN) return env.CUSTOS_TOKEN;
  if (!args.dev) throw new UsageError('no token: pass --token, set CUSTOS_TOKEN, or use --dev against a Custos running with CUSTOS_DEV_AUTH=true');
  const response = await fetch(`${args.url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub: 'custos-hr-import', roles: ['custos:hr'] }),
  });
  if (!response.ok) throw new Error(`the development issuer answered ${response.status} (is CUSTOS_DEV_AUTH=true on ${args.url}?)`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** The few routes of the public API the import uses. */
class CustosHttp {
  private readonly correlationId = `hr-import-${randomUUID()}`;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Every identity, following the `next` cursor. */
  async identities(): Promise<CurrentIdentity[]> {
    const all: CurrentIdentity[] = [];
    let after: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '1000', ...(after ? { after } : {}) });
      const response = await this.call('GET', `/identities?${query}`);
      if (response.status !== 200) throw new Error(`GET /identities answered ${response.status}: ${problemText(response.body)}`);
      const page = response.body as { items: CurrentIdentity[]; next: string | null };
      all.push(...page.items);
      after = page.next;
    } while (after);
    return all;
  }

  async hrEvent(body: unknown): Promise<{ status: number; body: unknown }> {
    return this.call('POST', '/hr/events', body);
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'x-correlation-id': this.correlationId,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text for the message
    }
    return { status: response.status, body: parsed };
  }
}

/** Sends the waves one after the other, each with `concurrency` requests in flight; 5xx and network errors are retried (the eventIds make that safe). */
async function send(api: CustosHttp, waves: PlannedChange[][], args: ReturnType<typeof readArgs>, io: CliIo): Promise<Outcome> {
  const total = waves.reduce((n, w) => n + w.length, 0);
  const outcome: Outcome = { applied: 0, scheduled: 0, duplicate: 0, failed: [] };
  if (total === 0) return outcome;
  const bar = new SingleBar({ stream: io.stderr, format: 'hr import [{bar}] {value}/{total} changes | {eta_formatted} left', hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  const effectiveAt = new Date().toISOString();
  try {
    for (const wave of waves) {
      let next = 0;
      const worker = async () => {
        while (next < wave.length) {
          const change = wave[next++];
          const event = toHrEvent(change, args.system, effectiveAt);
          const answer = await withRetries(() => api.hrEvent(event));
          const status = (answer.body as { status?: string } | undefined)?.status;
          if (answer.status === 202 && (status === 'applied' || status === 'scheduled' || status === 'duplicate')) outcome[status] += 1;
          else outcome.failed.push({ line: 'line' in change ? change.line : undefined, employeeId: change.employee.employeeId, type: change.type, status: answer.status, detail: problemText(answer.body) });
          bar.increment();
        }
      };
      await Promise.all(Array.from({ length: Math.min(args.concurrency, wave.length) }, worker));
    }
  } finally {
    bar.stop();
  }
  return outcome;
}

async function withRetries(call: () => Promise<{ status: number; body: unknown }>): Promise<{ status: number; body: unknown }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await call();
      if (answer.status < 500 || attempt >= 4) return answer;
    } catch (error) {
      if (attempt >= 4) return { status: 0, body: (error as Error).message };
    }
    await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
  }
}

function problemText(body: unknown): string {
  if (typeof body === 'string') return body;
  const problem = body as { detail?: string; title?: string; errors?: Array<{ field: string; message: string }> } | undefined;
  const errors = problem?.errors?.map((e) => e.message).join('; ');
  return [problem?.detail ?? problem?.title, errors].filter(Boolean).join(': ');
}

function describePlan(args: ReturnType<typeof readArgs>, rows: number, identities: number, plan: ReconcilePlan): string {
  const lines = [
    `${args.file}: ${rows} rows; Custos at ${args.url} holds ${identities} identities (${plan.active} active of system ${args.system})${args.dryRun ? '; dry run' : ''}`,
    `  joiners ${plan.joiners.length}, rehires ${plan.rehires.length}, movers ${plan.movers.length}, leavers ${plan.leavers.length}, unchanged ${plan.unchanged}`,
  ];
  if (plan.missing.length > 0) lines.push(`  ${plan.missing.length} active identities are not in the file: not leavers without --allow-leavers`);
  if (plan.pendingNotInFile > 0) lines.push(`  ${plan.pendingNotInFile} pending identities (future joiners) are not in the file: left alone`);
  if (plan.otherSystems.length > 0) lines.push(`  ${plan.otherSystems.length} rows are about identities of other systems: left alone`);
  return lines.join('\n');
}

function describeChanges(plan: ReconcilePlan, limit: number): string {
  const out: string[] = [];
  const section = <T>(title: string, items: T[], line: (item: T) => string) => {
    if (items.length === 0) return;
    out.push(`${title}:`);
    for (const item of items.slice(0, limit)) out.push(`  ${line(item)}`);
    if (items.length > limit) out.push(`  ... and ${items.length - limit} more`);
  };
  const who = (e: { employeeId: string; givenName: string; familyName: string; email: string }) => `${e.employeeId} ${e.givenName} ${e.familyName} <${e.email}>`;
  section('joiners', plan.joiners, (j) => `line ${j.line}: ${who(j.employee)}`);
  section('rehires', plan.rehires, (r) => `line ${r.line}: ${who(r.employee)} (identity ${r.identityId})`);
  section('movers', plan.movers, (m) => `line ${m.line}: ${m.employee.employeeId} ${m.changes.map((c) => `${c.field} ${c.from ?? '(none)'} -> ${c.to ?? '(none)'}`).join(', ')}`);
  section('leavers', plan.leavers, (l) => `${who(l.employee)} (identity ${l.identityId})`);
  section('not in the file (not leavers without --allow-leavers)', plan.missing, (l) => `${who(l.employee)} (identity ${l.identityId})`);
  section('identities of other systems (left alone)', plan.otherSystems, (o) => `line ${o.line}: ${who(o.employee)} (identity ${o.identityId}, system ${o.systemOfRecord ?? 'unknown'})`);
  return out.join('\n');
}

function planJson(plan: ReconcilePlan) {
  return {
    active: plan.active,
    unchanged: plan.unchanged,
    pendingNotInFile: plan.pendingNotInFile,
    blocked: plan.blocked ?? null,
    joiners: plan.joiners.map((j) => ({ line: j.line, employeeId: j.employee.employeeId })),
    rehires: plan.rehires.map((r) => ({ line: r.line, employeeId: r.employee.employeeId, identityId: r.identityId })),
    movers: plan.movers.map((m) => ({ line: m.line, employeeId: m.employee.employeeId, identityId: m.identityId, changes: m.changes })),
    leavers: plan.leavers.map((l) => ({ employeeId: l.employee.employeeId, identityId: l.identityId })),
    missing: plan.missing.map((l) => ({ employeeId: l.employee.employeeId, identityId: l.identityId })),
    otherSystems: plan.otherSystems.map((o) => ({ line: o.line, employeeId: o.employee.employeeId, identityId: o.identityId, systemOfRecord: o.systemOfRecord ?? null })),
  };
}
