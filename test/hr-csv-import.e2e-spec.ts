import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';
import { RunningProcess, startProcess } from './support/processes';

const ROOT = path.resolve(__dirname, '..');
const HEADER = 'employeeId,givenName,familyName,email,department,title,managerEmployeeId,location,costCenter,employmentType';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** `custos hr import` as an operator runs it: the launcher with arguments, as its own process. */
function custosCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/custos/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, CUSTOS_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

describe('custos hr import (CSV snapshot against the embedded app)', () => {
  let custos: RunningProcess;
  let dir: string;
  let hrToken: string;

  const people = Array.from({ length: 20 }, (_, i) => ({
    employeeId: `C${String(i + 1).padStart(3, '0')}`,
    givenName: `Given${i + 1}`,
    familyName: `Family${i + 1}`,
    email: `person${i + 1}@example.com`,
    department: i < 10 ? 'Engineering' : 'Sales',
    title: 'Staff',
    managerEmployeeId: i === 0 ? '' : 'C001',
    location: 'London',
    costCenter: 'CC-1',
    employmentType: 'employee',
  }));
  type Person = (typeof people)[number];
  const csv = (rows: Person[]) => [HEADER, ...rows.map((p) => [p.employeeId, p.givenName, p.familyName, p.email, p.department, p.title, p.managerEmployeeId, p.location, p.costCenter, p.employmentType].join(','))].join('\n') + '\n';
  const file = (name: string, rows: Person[]) => {
    const target = path.join(dir, name);
    writeFileSync(target, csv(rows));
    return target;
  };
  const run = (csvFile: string, ...flags: string[]) => custosCli(['hr', 'import', csvFile, '--url', custos.url, '--dev', '--json', ...flags]);

  const identities = async (query = ''): Promise<Array<{ identityId: string; employeeId: string; department?: string; status: string; managerId?: string; systemOfRecord?: string }>> => {
    const response = await fetch(`${custos.url}/identities?limit=1000${query}`, { headers: { authorization: `Bearer ${hrToken}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { items: any[] }).items;
  };
  const settled = (expected: (items: Awaited<ReturnType<typeof identities>>) => boolean, what: string) => eventually(identities, { accept: expected, what, timeoutMs: 20_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'custos-csv-'));
    custos = await startProcess('custos', 'apps/custos/src/main.ts', {
      CUSTOS_DATA_DIR: path.join(dir, 'data'),
      CUSTOS_DEV_AUTH: 'true',
      DATABASE_URL: undefined,
      NATS_URL: undefined,
      CUSTOS_OIDC_ISSUER: undefined,
      CUSTOS_NAMESPACE: undefined,
    });
    const response = await fetch(`${custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub: 'csv-spec', roles: ['custos:hr'] }) });
    hrToken = ((await response.json()) as { access_token: string }).access_token;
  }, 90_000);

  afterAll(async () => {
    await custos?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file with bad rows, naming their lines, and imports nothing', async () => {
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, `${csv(people.slice(0, 2))}C999,,Nobody,not-an-email,,,,,,intern\n`);
    const result = await run(bad);
    expect(result.code).toBe(1);
    expect(result.json.problems).toEqual([
      { line: 4, message: 'givenName is required' },
      { line: 4, message: 'employmentType must be employee or contractor, not "intern"' },
    ]);
    expect(result.stderr).toContain('nothing was imported');
    expect(await identities()).toEqual([]);
  });

  it('prints the joiners of a dry run and changes nothing', async () => {
    const result = await run(file('all.csv', people), '--dry-run');
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ dryRun: true, rows: 20, identities: 0, movers: [], leavers: [], blocked: null });
    expect(result.json.joiners.map((j: { employeeId: string }) => j.employeeId)).toEqual(people.map((p) => p.employeeId));
    expect(result.json.outcome).toBeUndefined();
    expect(result.stderr).toContain('dry run: nothing was sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(await identities()).toEqual([]);
  });

  it('imports the joiners, managers linked', async () => {
    const result = await run(file('all.csv', people));
    expect(result.code).toBe(0);
    expect(result.json.outcome).toEqual({ applied: 20, scheduled: 0, duplicate: 0, failed: [] });
    const items = await settled((items) => items.length === 20 && items.every((i) => i.status === 'active'), '20 active identities');
    const manager = items.find((i) => i.employeeId === 'C001')!;
    expect(items.filter((i) => i.employeeId !== 'C001').every((i) => i.managerId === manager.identityId)).toBe(true);
  });

  it('changes nothing when the same file is imported again', async () => {
    const result = await run(file('all.csv', people));
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ joiners: [], movers: [], leavers: [], unchanged: 20 });
    expect(result.json.outcome).toEqual({ applied: 0, scheduled: 0, duplicate: 0, failed: [] });
  });

  it('turns changed rows into movers with their changed fields', async () => {
    const changed = people.map((p, i) => (i === 3 ? { ...p, department: 'Sales', title: 'Lead' } : i === 4 ? { ...p, location: '' } : p));
    const result = await run(file('changed.csv', changed));
    expect(result.code).toBe(0);
    expect(result.json.movers).toEqual([
      { line: 5, employeeId: 'C004', identityId: expect.any(String), changes: [{ field: 'department', from: 'Engineering', to: 'Sales' }, { field: 'title', from: 'Staff', to: 'Lead' }] },
      { line: 6, employeeId: 'C005', identityId: expect.any(String), changes: [{ field: 'location', from: 'London' }] },
    ]);
    expect(result.json.outcome).toEqual({ applied: 2, scheduled: 0, duplicate: 0, failed: [] });
    await settled((items) => items.find((i) => i.employeeId === 'C004')?.department === 'Sales', 'the mover in the read model');
    people[3] = changed[3];
    people[4] = changed[4];
  });

  it('does not make a missing row a leaver without --allow-leavers', async () => {
    const result = await run(file('missing.csv', people.slice(0, 19)));
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ leavers: [], missing: [{ employeeId: 'C020', identityId: expect.any(String) }], unchanged: 19 });
    expect(result.json.outcome).toEqual({ applied: 0, scheduled: 0, duplicate: 0, failed: [] });
    expect((await identities()).find((i) => i.employeeId === 'C020')?.status).toBe('active');
  });

  it('stops above the leaver threshold and asks for --force', async () => {
    const result = await run(file('truncated.csv', people.slice(0, 17)), '--allow-leavers');
    expect(result.code).toBe(3);
    expect(result.json.blocked).toMatch(/^3 leavers are 15\.0% of the 20 active identities of csv, above the threshold of 5%/);
    expect(result.stderr).toContain('--force');
    expect((await identities()).filter((i) => i.status === 'active')).toHaveLength(20);
  });

  it('makes a missing row a leaver with --allow-leavers below the threshold', async () => {
    const result = await run(file('missing.csv', people.slice(0, 19)), '--allow-leavers');
    expect(result.code).toBe(0);
    expect(result.json.leavers).toEqual([{ employeeId: 'C020', identityId: expect.any(String) }]);
    expect(result.json.outcome).toEqual({ applied: 1, scheduled: 0, duplicate: 0, failed: [] });
    await settled((items) => items.find((i) => i.employeeId === 'C020')?.status === 'terminated', 'the leaver terminated');
  });

  it('never makes a leaver of an identity the workday webhook hired, even with --allow-leavers --force, and leaves rows about it alone', async () => {
    const worker = { ...people[0], employeeId: 'W001', givenName: 'Wanda', email: 'wanda@example.com', managerEmployeeId: '' };
    const { managerEmployeeId: _none, ...employee } = worker;
    // As an HR system sending changes as they happen: no effectiveAt.
    const hired = await fetch(`${custos.url}/hr/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hrToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventId: 'wd-w001', system: 'workday', type: 'joiner', employee }),
    });
    expect(hired.status).toBe(202);
    const { identityId } = (await hired.json()) as { identityId: string };
    await settled((items) => items.find((i) => i.employeeId === 'W001')?.systemOfRecord === 'workday', 'the workday identity in the read model');
    expect((await identities('&system=workday')).map((i) => i.employeeId)).toEqual(['W001']);
    expect((await identities('&system=csv')).every((i) => i.systemOfRecord === 'csv' && i.employeeId.startsWith('C'))).toBe(true);

    const result = await run(file('without-workday.csv', people.slice(0, 19)), '--allow-leavers', '--force');
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ leavers: [], missing: [], otherSystems: [], unchanged: 19, active: 19 });
    const withRow = await run(file('with-workday.csv', [...people.slice(0, 19), { ...worker, department: 'Sales' }]), '--allow-leavers', '--force');
    expect(withRow.code).toBe(0);
    expect(withRow.json).toMatchObject({ joiners: [], movers: [], leavers: [], otherSystems: [{ line: 21, employeeId: 'W001', identityId, systemOfRecord: 'workday' }] });
    expect(withRow.json.outcome).toEqual({ applied: 0, scheduled: 0, duplicate: 0, failed: [] });
    const wanda = (await identities()).find((i) => i.employeeId === 'W001');
    expect(wanda).toMatchObject({ status: 'active', department: worker.department, systemOfRecord: 'workday' });
  });

  it('reconciles a five-person trial of its own system without --force', async () => {
    const trial = people.slice(0, 5).map((p, i) => ({ ...p, employeeId: `T00${i + 1}`, email: `trial${i + 1}@example.com`, managerEmployeeId: '' }));
    const joined = await run(file('trial.csv', trial), '--system', 'trial');
    expect(joined.json.outcome).toEqual({ applied: 5, scheduled: 0, duplicate: 0, failed: [] });
    await settled((items) => items.filter((i) => i.systemOfRecord === 'trial').length === 5, 'the five trial identities');
    // Two of five (40%) are leavers: below twenty identities of the system the threshold does not apply.
    const result = await run(file('trial-left.csv', trial.slice(0, 3)), '--system', 'trial', '--allow-leavers');
    expect(result.code).toBe(0);
    expect(result.json).toMatchObject({ active: 5, blocked: null, leavers: [{ employeeId: 'T004' }, { employeeId: 'T005' }] });
    expect(result.json.outcome).toEqual({ applied: 2, scheduled: 0, duplicate: 0, failed: [] });
    await settled((items) => items.filter((i) => i.systemOfRecord === 'trial' && i.status === 'terminated').length === 2, 'the two trial leavers');
    expect((await identities()).filter((i) => i.systemOfRecord === 'csv' && i.status === 'active')).toHaveLength(19);
  });

  it('explains its usage and refuses to run without a token', async () => {
    const noFile = await custosCli(['hr', 'import']);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('Usage: custos hr import <file.csv>');
    const noToken = await custosCli(['hr', 'import', path.join(dir, 'all.csv'), '--url', custos.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('no token: pass --token, set CUSTOS_TOKEN, or use --dev');
  });
});
