import { createServer, type Server, type Socket } from 'node:net';
import { GatewayConnection, type GatewayDeps } from './gateway-connection';

/**
 * PgGateway listens for PostgreSQL clients (CUSTOS_PG_GATEWAY_PORT) and gives each connection
 * a GatewayConnection. Stopping it closes the listener and cuts the live sessions, each recorded
 * as ended by the gateway's stop.
 */
export class PgGateway {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly deps: GatewayDeps) {}

  async listen(port: number, host: string): Promise<{ port: number }> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      new GatewayConnection(socket, this.deps);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return { port: (server.address() as { port: number }).port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(this.deps.live.all().map((s) => s.cut('gateway-stopped', 'system:gateway', 'the gateway is shutting down')));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
