import { sessionStreamId } from '@custos/gateway/contracts';
import { sessionDecider } from '@custos/gateway/domain';
import type { Consumer } from '@custos/platform/messaging';
import { handleCommand, type BackgroundWorker, type ContextRuntime } from '@custos/platform/runtime';
import { GRANT_WATCH_EVENTS, grantWatchConsumer, type GrantWatch } from './grant-watch';
import type { PgGateway } from './protocol/gateway-server';
import type { SessionsView } from './read-models/sessions-view/sessions-view';
import { TARGET_LINK_EVENTS, TARGET_LINKS_CONSUMER, type TargetLinks } from './read-models/target-links/target-links';
import type { SessionRecorder } from './session-recorder';

export interface GatewayListen {
  port: number;
  host: string;
  gatewayId: string;
}

/**
 * GatewayWorkers starts the gateway in order: the sessions view caught up, this gateway's
 * sessions left live by its previous run marked incomplete, the consumers of the entitlement
 * context's events (catalog links, grants' ends), then the listener. It stops in reverse, the
 * live sessions cut and their recordings flushed before the store closes.
 */
export class GatewayWorkers implements BackgroundWorker {
  private consumers: Consumer[] = [];
  /** The port the gateway listens on once started (0 in the settings: a free one). */
  port?: number;

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly view: SessionsView,
    private readonly links: TargetLinks,
    private readonly watch: GrantWatch,
    private readonly recorder: SessionRecorder,
    private readonly gateway: PgGateway,
    private readonly listen: GatewayListen | undefined,
    private readonly gatewayId: string,
  ) {}

  async start(): Promise<void> {
    this.view.start((err) => this.runtime.logger.error({ err }, 'gateway sessions view failed; retrying'));
    await this.view.caughtUp();
    await this.markIncomplete();
    const bus = this.runtime.bus;
    this.consumers.push(
      await bus.consume({ durable: TARGET_LINKS_CONSUMER, context: 'entitlement', eventNames: [...TARGET_LINK_EVENTS], maxDeliver: 50, handler: (e) => this.links.apply(e) }),
      await bus.consume({ durable: grantWatchConsumer(this.gatewayId), context: 'entitlement', eventNames: [...GRANT_WATCH_EVENTS], maxDeliver: 20, handler: (e) => this.watch.onEntitlementEvent(e) }),
    );
    if (this.listen) {
      const { port } = await this.gateway.listen(this.listen.port, this.listen.host);
      this.port = port;
      this.runtime.logger.info({ port, gatewayId: this.gatewayId }, 'PostgreSQL gateway listening');
    }
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
    await this.recorder.flush();
    this.recorder.stop();
    await Promise.all(this.consumers.splice(0).map((c) => c.stop()));
    await this.view.stop();
  }

  /** Sessions this gateway left live when it last stopped without ending them (a crash): their recordings may miss what was in flight. */
  private async markIncomplete(): Promise<void> {
    const now = this.runtime.clock().toISOString();
    for (const sessionId of await this.view.liveOn(this.gatewayId)) {
      await handleCommand(this.runtime.store, sessionStreamId(sessionId), sessionDecider, { type: 'MarkSessionIncomplete', data: { sessionId, gatewayId: this.gatewayId, now } }, { actor: 'system:gateway' });
    }
    await this.view.caughtUp();
  }
}
