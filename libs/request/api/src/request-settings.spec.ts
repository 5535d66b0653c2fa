import { readRequestSettings } from './request-settings';

describe('readRequestSettings', () => {
  it('leaves the review window to the domain\'s default (PT24H) when unset or blank', () => {
    expect(readRequestSettings({})).toEqual({});
    expect(readRequestSettings({ CUSTOS_BREAK_GLASS_REVIEW_WINDOW: '  ' })).toEqual({});
  });

  it('takes a positive ISO 8601 duration as the break-glass review window', () => {
    expect(readRequestSettings({ CUSTOS_BREAK_GLASS_REVIEW_WINDOW: 'PT4H' })).toEqual({ breakGlassReviewWindow: 'PT4H' });
  });

  it.each(['24 hours', 'PT0S', 'P300000Y', '-PT1H'])('refuses %s, naming the variable', (value) => {
    expect(() => readRequestSettings({ CUSTOS_BREAK_GLASS_REVIEW_WINDOW: value })).toThrow(/CUSTOS_BREAK_GLASS_REVIEW_WINDOW/);
  });
});
