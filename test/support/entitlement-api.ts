import { randomUUID } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import type { CustosClient } from './client';

export interface Grant {
  grantId: string;
  entitlement: string;
  source: 'birthright' | 'request' | 'break-glass' | 'admin';
  role?: string;
  ruleKey?: string;
  grantedAt: string;
  expiresAt?: string;
}

export interface Employee {
  employeeId: string;
  givenName: string;
  familyName: string;
  email: string;
  department?: string;
  title?: string;
  location?: string;
  employmentType: 'employee' | 'contractor';
}

/**
 * The public API as an administrator, HR and an auditor drive it, for entitlement scenarios:
 * every key and employee is suffixed with a run id, so scenarios sharing a deployment never meet.
 */
export class EntitlementApi {
  readonly run = randomUUID().slice(0, 8);
  private tokens?: { admin: string; hr: string; auditor: string };
  private readonly employees = new Map<string, Employee>();
  private hrEvents = 0;

  constructor(readonly client: CustosClient) {}

  /** A key unique to this run (`github:admin` -> `github:admin-1a2b3c4d`). */
  key(name: string): string {
    return `${name}-${this.run}`;
  }

  async admin(): Promise<string> {
    return (await this.login()).admin;
  }

  async auditor(): Promise<string> {
    return (await this.login()).auditor;
  }

  /** An authenticated call as the administrator. */
  async asAdmin(method: string, path: string, body?: unknown) {
    return this.client.call(method, path, { token: await this.admin(), body });
  }

  async defineEntitlements(...keys: string[]): Promise<void> {
    for (const key of keys) {
      const r = await this.asAdmin('POST', '/catalog/entitlements', { key, application: key.split(':')[0], name: key, privileged: false, risk: 'low' });
      expect([r.status, r.body]).toEqual([201, expect.objectContaining({ key })]);
    }
  }

  async defineRole(key: string, entitlements: string[], roles: string[] = []): Promise<void> {
    const r = await this.asAdmin('POST', '/roles', { key, name: key, entitlements, roles });
    expect([r.status, r.body]).toEqual([201, expect.objectContaining({ key })]);
  }

  async defineRule(key: string, when: Record<string, unknown>, roles: string[]): Promise<void> {
    const r = await this.asAdmin('POST', '/birthright-rules', { key, name: key, when, roles });
    expect([r.status, r.body]).toEqual([201, expect.objectContaining({ key })]);
  }

  async defineSodPolicy(key: string, conflicting: [string[], string[]], mode: 'prevent' | 'approve'): Promise<void> {
    const r = await this.asAdmin('POST', '/sod-policies', { key, name: key, conflicting, mode });
    expect([r.status, r.body]).toEqual([201, expect.objectContaining({ key, mode })]);
  }

  /** An HR joiner; resolves with the new identity's id. */
  async hire(name: string, attributes: Partial<Employee>): Promise<string> {
    const employee: Employee = {
      employeeId: `E-${name}-${this.run}`,
      givenName: name,
      familyName: 'Tester',
      email: `${name.toLowerCase()}-${this.run}@example.com`,
      employmentType: 'employee',
      ...attributes,
    };
    this.employees.set(name, employee);
    return this.hrEvent('joiner', employee);
  }

  /** An HR mover: the employee's full new record, with `changes` applied. */
  async move(name: string, changes: Partial<Employee>): Promise<string> {
    const employee = { ...this.employee(name), ...changes };
    this.employees.set(name, employee);
    return this.hrEvent('mover', employee);
  }

  async leave(name: string): Promise<string> {
    return this.hrEvent('leaver', this.employee(name));
  }

  async grants(identityId: string): Promise<Grant[]> {
    const r = await this.asAdmin('GET', `/access/${identityId}`);
    expect(r.status).toBe(200);
    return r.body.grants;
  }

  /** Waits until the identity's grants satisfy `accept`, and returns them. */
  async grantsWhen(identityId: string, accept: (grants: Grant[]) => boolean, what: string, timeoutMs = 20_000): Promise<Grant[]> {
    return eventually(() => this.grants(identityId), { accept, what, timeoutMs, intervalMs: 100 });
  }

  async check(identityId: string, entitlement: string): Promise<{ allowed: boolean; reason: string; grantIds: string[]; expiresAt?: string }> {
    const r = await this.asAdmin('GET', `/check?identityId=${encodeURIComponent(identityId)}&entitlement=${encodeURIComponent(entitlement)}`);
    expect(r.status).toBe(200);
    return r.body;
  }

  /** The identity's audit events of one type, once `accept` holds for them. */
  async auditEventsWhen(identityId: string, type: string, accept: (events: any[]) => boolean, what: string, timeoutMs = 20_000): Promise<any[]> {
    const auditor = await this.auditor();
    return eventually(
      async () => {
        const r = await this.client.call('GET', `/audit/events?identityId=${encodeURIComponent(identityId)}&type=${type}&limit=1000`, { token: auditor });
        return r.status === 200 ? (r.body.items as any[]) : [];
      },
      { accept, what, timeoutMs, intervalMs: 200 },
    );
  }

  private employee(name: string): Employee {
    const employee = this.employees.get(name);
    if (!employee) throw new Error(`no employee ${name} hired in this run`);
    return employee;
  }

  private async hrEvent(type: 'joiner' | 'mover' | 'leaver', employee: Employee): Promise<string> {
    const { hr } = await this.login();
    this.hrEvents += 1;
    const r = await this.client.call('POST', '/hr/events', {
      token: hr,
      body: {
        eventId: `wd-${this.run}-${this.hrEvents}`,
        system: 'workday',
        type,
        // Each event of a run a moment later than the one before, and in the past: applied now, in order.
        effectiveAt: new Date(Date.now() - 60_000 + this.hrEvents * 10).toISOString(),
        employee,
      },
    });
    expect([r.status, r.body?.status]).toEqual([202, 'applied']);
    return r.body.identityId as string;
  }

  private async login(): Promise<{ admin: string; hr: string; auditor: string }> {
    this.tokens ??= {
      admin: await this.client.token(`admin-${this.run}`, ['custos:admin']),
      hr: await this.client.token(`hr-${this.run}`, ['custos:hr']),
      auditor: await this.client.token(`auditor-${this.run}`, ['custos:auditor']),
    };
    return this.tokens;
  }
}
