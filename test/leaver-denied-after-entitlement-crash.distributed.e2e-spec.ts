import { Deployment, startDistributed } from './support/deployment';
import { EntitlementApi } from './support/entitlement-api';
import { startProcess } from './support/processes';

const EMPLOYEES = 30;
/** Leavers sent at once during the burst. */
const CONCURRENCY = 6;
/** The entitlement service is killed once this many leavers have been acknowledged. */
const KILL_AFTER = 8;
/** Every acknowledged leaver must be denied within this long of the restarted service answering /health. */
const DENIED_WITHIN_MS = 5_000;

/**
 * The entitlement service dies (SIGKILL) in the middle of a burst of leavers, with identity
 * events it pulled from JetStream but had not acknowledged; a new instance starts. Every leaver
 * that HR was told was applied must be denied by /check within seconds of the new instance being
 * healthy: the dead consumer's messages are redelivered after the short ack wait, not 30 s later.
 */
describe('leavers are denied within seconds after the entitlement service is killed mid-burst (separate processes over NATS and PostgreSQL)', () => {
  let deployment: Deployment;
  let api: EntitlementApi;

  beforeAll(async () => {
    deployment = await startDistributed('custos_leaver_crash');
    api = new EntitlementApi(deployment.client);
  }, 180_000);

  afterAll(() => deployment?.stop(), 60_000);

  it('denies every acknowledged leaver within 5 s of the restarted entitlement service being healthy', async () => {
    const entitlement = api.key('github:repo-read');
    await api.defineEntitlements(entitlement);
    await api.defineRole(api.key('eng-base'), [entitlement]);
    await api.defineRule(api.key('engineering'), { department: api.key('Engineering') }, [api.key('eng-base')]);

    const names = Array.from({ length: EMPLOYEES }, (_, i) => `Leaver${i}`);
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, await api.hire(name, { department: api.key('Engineering') }));
    for (const name of names) await api.grantsWhen(ids.get(name)!, (grants) => grants.length === 1, `${name}'s birthright grant`, 60_000);
    for (const name of names) expect((await api.check(ids.get(name)!, entitlement)).allowed).toBe(true);

    // The burst: leavers CONCURRENCY at a time; the entitlement service is killed mid-way.
    const acknowledged: string[] = [];
    let killing: Promise<void> | undefined;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < names.length; i = next++) {
          await api.leave(names[i]);
          acknowledged.push(names[i]);
          if (acknowledged.length === KILL_AFTER) killing = deployment.services.entitlement.stop('SIGKILL');
        }
      }),
    );
    await killing;
    expect(acknowledged).toHaveLength(EMPLOYEES);

    const services = deployment.services;
    services.entitlement = await startProcess('entitlement-service', 'apps/entitlement-service/src/main.ts', deployment.env);
    const healthyAt = Date.now();

    // Each acknowledged leaver, polled until denied: how long after healthy that came.
    const deniedAfter = await Promise.all(
      acknowledged.map(async (name) => {
        for (;;) {
          const decision = await api.check(ids.get(name)!, entitlement);
          const elapsed = Date.now() - healthyAt;
          if (!decision.allowed) return elapsed;
          if (elapsed > 60_000) return elapsed;
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
    const slowest = Math.max(...deniedAfter);
    const late = acknowledged.filter((_, i) => deniedAfter[i] > DENIED_WITHIN_MS);
    expect({ late, slowest: slowest > DENIED_WITHIN_MS ? slowest : 'in time' }).toEqual({ late: [], slowest: 'in time' });
    for (const name of acknowledged) expect(await api.grants(ids.get(name)!)).toEqual([]);
  }, 300_000);
});
