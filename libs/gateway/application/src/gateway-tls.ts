import { createSecureContext, type SecureContext } from 'node:tls';
import { generate } from 'selfsigned';

/**
 * gatewayTlsContext: the gateway's TLS context from the configured certificate, or, in
 * development only, a self-signed one generated at start (selfsigned; clients connect with
 * sslmode=require, which encrypts without checking the certificate). Without either the gateway
 * does not start: a session token is a password and never crosses the network in clear.
 */
export async function gatewayTlsContext(configured: { cert: string; key: string } | undefined, development: boolean): Promise<SecureContext> {
  if (configured) return createSecureContext({ cert: configured.cert, key: configured.key, minVersion: 'TLSv1.2' });
  if (!development) throw new Error('the PostgreSQL gateway needs CUSTOS_PG_GATEWAY_TLS_CERT and CUSTOS_PG_GATEWAY_TLS_KEY (a generated certificate is for development only)');
  const pems = await generate([{ name: 'commonName', value: 'custos-pg-gateway' }], { keySize: 2048, algorithm: 'sha256' });
  return createSecureContext({ cert: pems.cert, key: pems.private, minVersion: 'TLSv1.2' });
}
