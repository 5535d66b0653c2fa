import { connect as connectTcp, type Socket } from 'node:net';
import { Client } from 'pg';
import type { UpstreamEndpoint } from '../ports';

/** An authenticated upstream connection, ready for query, taken over from `pg` as a raw socket. */
export interface Upstream {
  socket: Socket;
  /** The ParameterStatus values the server sent at startup, to pass to the client. */
  parameters: Array<[string, string]>;
  processId: number;
  secretKey: number;
}

/**
 * openUpstream logs in to the target with node-postgres (`pg`), which speaks every authentication
 * method and TLS the server may ask for (SCRAM-SHA-256 included), then takes its socket over: once
 * the server is ready for a query nothing more is in flight, so pg's parser is detached and the
 * gateway relays raw messages from then on. `pg` is never used for a query here.
 */
export async function openUpstream(endpoint: UpstreamEndpoint, applicationName: string, timeoutMs: number): Promise<Upstream> {
  const client = new Client({
    host: endpoint.host,
    port: endpoint.port,
    database: endpoint.database,
    user: endpoint.user,
    password: endpoint.password,
    ssl: endpoint.ssl === false ? false : endpoint.ssl,
    application_name: applicationName.slice(0, 63),
    connectionTimeoutMillis: timeoutMs,
  });
  const parameters: Array<[string, string]> = [];
  // `connection` is pg's protocol layer: its events carry each startup message as parsed.
  const connection = (client as unknown as { connection: { on(event: string, listener: (msg: { parameterName: string; parameterValue: string }) => void): void; stream: Socket } }).connection;
  connection.on('parameterStatus', (msg) => parameters.push([msg.parameterName, msg.parameterValue]));
  // A failed login surfaces through connect(); a socket error after it is handled by the gateway.
  client.on('error', () => undefined);
  await client.connect();
  const socket = connection.stream;
  for (const event of ['data', 'end', 'close', 'error']) socket.removeAllListeners(event);
  const keys = client as unknown as { processID: number; secretKey: number };
  return { socket, parameters, processId: keys.processID, secretKey: keys.secretKey };
}

/** Asks the upstream server to cancel the statement a backend runs (a CancelRequest on a connection of its own). */
export function cancelUpstream(endpoint: UpstreamEndpoint, processId: number, secretKey: number): void {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80877102, 4);
  message.writeInt32BE(processId, 8);
  message.writeInt32BE(secretKey, 12);
  const socket = connectTcp(endpoint.port, endpoint.host, () => socket.end(message));
  socket.on('error', () => socket.destroy());
  socket.setTimeout(5_000, () => socket.destroy());
}
