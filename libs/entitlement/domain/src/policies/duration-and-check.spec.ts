import type { Grant } from '@custos/entitlement/contracts';
import { checkAccess, heldEntitlements, type AccessCheck } from './access-check';
import { ValidationFailed } from '../errors';
import { addIsoDuration, durationError, parseIsoDuration } from './duration';

describe('addIsoDuration', () => {
  it.each<[string, string, string, string]>([
    ['minutes', '2026-03-02T09:00:00Z', 'PT15M', '2026-03-02T09:15:00.000Z'],
    ['hours across midnight', '2026-03-02T20:00:00Z', 'PT8H', '2026-03-03T04:00:00.000Z'],
    ['days and time', '2026-03-02T09:00:00Z', 'P1DT2H', '2026-03-03T11:00:00.000Z'],
    ['weeks', '2026-03-02T09:00:00Z', 'P2W', '2026-03-16T09:00:00.000Z'],
    ['a month keeps the day', '2026-03-02T09:00:00Z', 'P1M', '2026-04-02T09:00:00.000Z'],
    ['a month from the 31st clamps to the last day', '2026-01-31T09:00:00Z', 'P1M', '2026-02-28T09:00:00.000Z'],
    ['a year from a leap day clamps', '2028-02-29T09:00:00Z', 'P1Y', '2029-02-28T09:00:00.000Z'],
    ['fractional seconds', '2026-03-02T09:00:00Z', 'PT1.5S', '2026-03-02T09:00:01.500Z'],
    ['an offset time', '2026-03-02T10:00:00+01:00', 'PT1H', '2026-03-02T10:00:00.000Z'],
  ])('%s', (_description, at, duration, expected) => {
    expect(addIsoDuration(at, duration)).toBe(expected);
  });

  it.each(['', 'P', 'PT', 'PT0S', '8h', 'P1H', 'PT-1H', 'P1DT'])('rejects %j as a duration', (text) => {
    expect(parseIsoDuration(text)).toBeNull();
  });

  it.each(['P300000Y', 'PT99999999999999999999H', 'P99999999999999999999D', 'PT1e400S', 'P10Y1D', 'P121M', 'PT315619201S'])(
    'refuses %j as longer than ten years, naming the field, instead of overflowing a Date',
    (text) => {
      expect(() => addIsoDuration('2026-03-02T09:00:00Z', text, 'duration')).toThrow(ValidationFailed);
      expect(durationError('2026-03-02T09:00:00Z', text, 'duration')).toEqual({ field: 'duration', message: expect.any(String) });
    },
  );

  it('accepts ten years to the day, in any unit', () => {
    expect(addIsoDuration('2026-03-02T09:00:00Z', 'P10Y')).toBe('2036-03-02T09:00:00.000Z');
    expect(addIsoDuration('2026-03-02T09:00:00Z', 'P3653D')).toBe('2036-03-02T09:00:00.000Z');
  });
});

describe('checkAccess', () => {
  const NOW = '2026-03-02T09:00:00.000Z';
  const grant = (data: Partial<Grant>): Grant => ({ grantId: 'g-1', entitlement: 'aws:admin', source: 'request', grantedAt: NOW, reason: 'r', ...data });

  it.each<[string, { terminated: boolean; grants: Grant[] }, AccessCheck]>([
    ['a permanent grant allows', { terminated: false, grants: [grant({})] }, { allowed: true, reason: 'granted', grantIds: ['g-1'] }],
    [
      'a grant before its end allows, until the end',
      { terminated: false, grants: [grant({ expiresAt: '2026-03-02T10:00:00.000Z' })] },
      { allowed: true, reason: 'granted', grantIds: ['g-1'], expiresAt: '2026-03-02T10:00:00.000Z' },
    ],
    ['a grant at its end denies', { terminated: false, grants: [grant({ expiresAt: NOW })] }, { allowed: false, reason: 'expired', grantIds: [] }],
    [
      'two grants: the later end is reported',
      { terminated: false, grants: [grant({ expiresAt: '2026-03-02T10:00:00.000Z' }), grant({ grantId: 'g-2', expiresAt: '2026-03-02T12:00:00.000Z' })] },
      { allowed: true, reason: 'granted', grantIds: ['g-1', 'g-2'], expiresAt: '2026-03-02T12:00:00.000Z' },
    ],
    [
      'a permanent grant beside a timed one: no end reported',
      { terminated: false, grants: [grant({ expiresAt: '2026-03-02T10:00:00.000Z' }), grant({ grantId: 'g-2' })] },
      { allowed: true, reason: 'granted', grantIds: ['g-1', 'g-2'] },
    ],
    ['no grant of the entitlement denies', { terminated: false, grants: [grant({ entitlement: 'slack:member' })] }, { allowed: false, reason: 'not-granted', grantIds: [] }],
    ['a terminated identity is denied even with grants left', { terminated: true, grants: [grant({})] }, { allowed: false, reason: 'terminated', grantIds: [] }],
  ])('%s', (_description, access, expected) => {
    expect(checkAccess(access, 'aws:admin', NOW)).toEqual(expected);
  });
});

describe('heldEntitlements', () => {
  const NOW_ = '2026-03-02T09:00:00.000Z';
  const grant = (grantId: string, entitlement: string, expiresAt?: string): Grant => ({ grantId, entitlement, source: 'admin', grantedAt: '2026-03-01T09:00:00.000Z', reason: 'r', ...(expiresAt && { expiresAt }) });

  it.each<[string, Grant[], string[]]>([
    ['nothing held', [], []],
    ['a permanent grant is held', [grant('g-1', 'a')], ['a']],
    ['an entitlement held twice is listed once', [grant('g-1', 'a'), grant('g-2', 'a', '2026-03-03T09:00:00.000Z')], ['a']],
    ['a grant ending now is no longer held', [grant('g-1', 'a', NOW_)], []],
    ['a grant ending later is held', [grant('g-1', 'a', '2026-03-02T09:00:00.001Z')], ['a']],
  ])('%s', (_description, grants, expected) => {
    expect(heldEntitlements(grants, NOW_)).toEqual(expected);
  });
});
