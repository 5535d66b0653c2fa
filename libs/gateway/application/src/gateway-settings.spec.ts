import { readGatewayConfig, redactionRule } from './gateway-settings';

describe('the gateway settings', () => {
  it('redacts every bind parameter by default, none on request, or those a pattern matches', () => {
    expect(redactionRule('all')(['a', null, 'secret'])).toEqual(['[redacted]', null, '[redacted]']);
    expect(redactionRule('none')(['a', null])).toEqual(['a', null]);
    expect(redactionRule('re:^\\d{16}$')(['4111111111111111', 'ada'])).toEqual(['[redacted]', 'ada']);
    expect(() => redactionRule('re:(')).toThrow(/not a valid regular expression/);
    expect(() => redactionRule('some')).toThrow(/all, none or re:/);
  });

  it('reads its defaults, and names the variable at fault', () => {
    const config = readGatewayConfig({ CUSTOS_PG_GATEWAY_ID: 'gw a/1' });
    expect(config).toMatchObject({ port: undefined, gatewayId: 'gw-a-1', tlsRequired: true, tokenTtlMs: 300_000, recordLingerMs: 20 });
    expect(readGatewayConfig({ CUSTOS_PG_GATEWAY_PORT: '6432', CUSTOS_PG_GATEWAY_TOKEN_TTL: 'PT1M', CUSTOS_PG_GATEWAY_TLS_REQUIRED: 'false' })).toMatchObject({ port: 6432, tokenTtlMs: 60_000, tlsRequired: false });
    expect(() => readGatewayConfig({ CUSTOS_PG_GATEWAY_PORT: 'x' })).toThrow(/CUSTOS_PG_GATEWAY_PORT/);
    expect(() => readGatewayConfig({ CUSTOS_PG_GATEWAY_TOKEN_TTL: 'PT2H' })).toThrow(/CUSTOS_PG_GATEWAY_TOKEN_TTL/);
    expect(() => readGatewayConfig({ CUSTOS_PG_GATEWAY_TLS_CERT: '/x' })).toThrow(/go together/);
    expect(() => readGatewayConfig({ CUSTOS_PG_GATEWAY_RECORD_LINGER_MS: '5000' })).toThrow(/RECORD_LINGER/);
  });
});
