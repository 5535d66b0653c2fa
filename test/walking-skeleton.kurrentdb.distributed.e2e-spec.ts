import { existsSync } from 'node:fs';
import { Deployment, startDistributed } from './support/deployment';
import { walkingSkeleton } from './support/walking-skeleton';

/**
 * The walking skeleton with the entitlement service's events in KurrentDB (EVENT_STORE), the other
 * services on PostgreSQL as usual: the server at KURRENTDB_URL, or one started with
 * @testcontainers/kurrentdb where a Docker engine is reachable. Skipped, and said so, where neither.
 */
const url = process.env.KURRENTDB_URL;
const docker = process.env.DOCKER_HOST ?? ['/var/run/docker.sock', `${process.env.HOME}/.docker/run/docker.sock`].find((path) => existsSync(path));
if (!url && !docker) {
  console.warn('walking-skeleton.kurrentdb: no Docker engine and no KURRENTDB_URL: the walking skeleton with EVENT_STORE=kurrentdb://... is SKIPPED');
}

(url || docker ? describe : describe.skip)('walking skeleton: the entitlement service on KurrentDB (EVENT_STORE), the others on PostgreSQL', () => {
  let deployment: Deployment;
  let stopKurrent: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    let eventStore = url;
    if (!eventStore) {
      const { KurrentDbContainer } = await import('@testcontainers/kurrentdb');
      const container = await new KurrentDbContainer(process.env.KURRENTDB_IMAGE ?? 'kurrentplatform/kurrentdb:25.1').start();
      stopKurrent = () => container.stop();
      eventStore = container.getConnectionString();
    }
    deployment = await startDistributed('custos_e2e_kurrent', { entitlement: { EVENT_STORE: eventStore } });
  }, 300_000);

  afterAll(async () => {
    await deployment?.stop();
    await stopKurrent?.();
  }, 60_000);

  walkingSkeleton(() => deployment.client);
});
