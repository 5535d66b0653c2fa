import { isoDurationEnd, parseIsoDuration } from './iso-duration';

const at = Date.parse('2026-01-31T09:00:00Z');
const end = (duration: unknown) => {
  const result = isoDurationEnd(at, duration);
  return 'end' in result ? new Date(result.end).toISOString() : result.problem;
};

describe('ISO 8601 durations (the domain kit)', () => {
  it.each([
    ['PT30S', '2026-01-31T09:00:30.000Z'],
    ['PT0.5S', '2026-01-31T09:00:00.500Z'],
    ['P1M', '2026-02-28T09:00:00.000Z'],
    ['P1Y1M', '2027-02-28T09:00:00.000Z'],
    ['P1W', '2026-02-07T09:00:00.000Z'],
    ['P10Y', '2036-01-31T09:00:00.000Z'],
  ])('%s after Jan 31 ends at %s (months are calendar steps clamped to the month end)', (duration, expected) => {
    expect(end(duration)).toBe(expected);
  });

  it.each(['', 'P', 'PT', 'P0D', 'PT0S', '1D', 'P1H', 'PT1D', '-P1D', 42, null])('refuses %j as no positive duration', (duration) => {
    expect(end(duration)).toBe('invalid');
  });

  it.each(['P10YT1S', 'P11Y', 'P121M', 'P3654D', 'P300000Y', `PT${'9'.repeat(400)}S`])('refuses %s as longer than ten years', (duration) => {
    expect(end(duration)).toBe('too-long');
  });

  it('reads the parts, a comma as the decimal mark included', () => {
    expect(parseIsoDuration('P1Y2M3W4DT5H6M7,5S')).toEqual({ years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7.5 });
  });
});
