/**
 * The NATS baseline: a raw core-NATS responder that answers every request with its own payload,
 * in a process of its own as the entitlement service is, so that a check round trip and an
 * echo round trip differ only by what the service does with the message.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

const SCRIPT = `
const { connect } = require('@nats-io/transport-node');
(async () => {
  const nc = await connect({ servers: process.env.ECHO_NATS_URL, name: 'bench-echo' });
  const subject = process.env.ECHO_SUBJECT;
  nc.subscribe(subject, { queue: subject, callback: (error, msg) => { if (!error) msg.respond(msg.data); } });
  await nc.flush();
  process.stdout.write('ready\\n');
  process.once('SIGTERM', () => nc.drain().then(() => process.exit(0), () => process.exit(1)));
})().catch((error) => { console.error(error); process.exit(1); });
`;

export interface RunningEcho {
  stop(): Promise<void>;
}

/** Starts the echo responder on `subject` (the full subject, namespace included) and waits until it is subscribed. */
export function startNatsEcho(natsUrl: string, subject: string): Promise<RunningEcho> {
  const child = spawn(process.execPath, ['-e', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ECHO_NATS_URL: natsUrl, ECHO_SUBJECT: subject },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (c) => (output += c));
    child.stdout?.on('data', (c) => {
      output += c;
      if (output.includes('ready')) resolve({ stop });
    });
    child.once('exit', (code) => reject(new Error(`NATS echo exited with ${code}:\n${output}`)));
  });
}
