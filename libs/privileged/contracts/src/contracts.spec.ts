import { identityConcernedByPrivilegedEvent } from './privileged-context-event';
import { jitAccountSecretId, jitAccountStreamId, PRIVILEGED_STREAM_PREFIXES, targetAdminSecretId, targetStreamId, vaultAccountSecretId, vaultAccountStreamId } from './stream-ids';

describe('privileged contracts', () => {
  it('names streams within their categories, and secrets apart from streams', () => {
    expect(targetStreamId('pg-prod')).toBe('target-pg-prod');
    expect(vaultAccountStreamId('pg-prod-dba')).toBe('vault-account-pg-prod-dba');
    expect(jitAccountStreamId('g-1')).toBe('jit-account-g-1');
    for (const [category, id] of [
      ['target', targetStreamId('x')],
      ['vaultAccount', vaultAccountStreamId('x')],
      ['jitAccount', jitAccountStreamId('x')],
    ] as const) {
      expect(id.startsWith(PRIVILEGED_STREAM_PREFIXES[category])).toBe(true);
    }
    expect(new Set([targetAdminSecretId('a'), vaultAccountSecretId('a'), jitAccountSecretId('a')]).size).toBe(3);
  });

  it('says which identity an event concerns: who checked out or in, whose just-in-time account; a target concerns nobody', () => {
    expect(identityConcernedByPrivilegedEvent({ name: 'VaultAccountCheckedOut', data: { identityId: 'ada' } })).toBe('ada');
    expect(identityConcernedByPrivilegedEvent({ name: 'VaultAccountCheckedIn', data: { identityId: 'ada' } })).toBe('ada');
    expect(identityConcernedByPrivilegedEvent({ name: 'JitAccountRequested', data: { identityId: 'bob' } })).toBe('bob');
    expect(identityConcernedByPrivilegedEvent({ name: 'JitCredentialDelivered', data: { identityId: 'bob' } })).toBe('bob');
    expect(identityConcernedByPrivilegedEvent({ name: 'TargetRegistered', data: { identityId: 'x' } })).toBeUndefined();
    expect(identityConcernedByPrivilegedEvent({ name: 'JitAccountDropped', data: { identityId: 'x' } })).toBeUndefined();
  });
});
