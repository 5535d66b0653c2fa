import { ValidationFailed } from '../errors';
import { NOW } from '../testing/builders';
import { addDuration, durationError, exceedsDuration } from './duration';

describe('durations', () => {
  it.each([
    ['PT30S', '2026-03-02T09:00:30.000Z'],
    ['PT1.5S', '2026-03-02T09:00:01.500Z'],
    ['PT8H', '2026-03-02T17:00:00.000Z'],
    ['P1M', '2026-04-02T09:00:00.000Z'],
  ])('adds %s', (duration, end) => {
    expect(addDuration(NOW, duration)).toBe(end);
  });

  it.each(['PT0S', 'P', 'PT', '8 hours', '-PT1H', 'P300000Y'])('refuses %s as a duration', (duration) => {
    expect(durationError(NOW, duration, 'duration')).toMatchObject({ field: 'duration' });
    expect(() => addDuration(NOW, duration)).toThrow(ValidationFailed);
  });

  it.each<[string, string, boolean]>([
    ['PT8H', 'PT8H', false],
    ['PT8H1S', 'PT8H', true],
    ['PT480M', 'PT8H', false],
    ['P1D', 'PT8H', true],
    ['PT1H', 'not a duration', false],
  ])('%s exceeds %s: %s', (duration, maximum, exceeds) => {
    expect(exceedsDuration(NOW, duration, maximum)).toBe(exceeds);
  });
});
