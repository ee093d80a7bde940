import { describe, expect, it } from '@jest/globals';
import { parseIsoDurationSeconds } from './iso-duration.js';

describe(parseIsoDurationSeconds.name, () => {
  it.each([
    ['PT30M', 1800],
    ['PT2H', 7200],
    ['P1D', 86_400],
    ['P2W', 1_209_600],
    ['P1DT12H', 129_600],
    ['PT1H30M15S', 5415],
    ['PT0.5S', 0.5],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseIsoDurationSeconds(text)).toBe(seconds);
  });

  it.each(['', 'P', 'PT', 'P1DT', '2h', 'PT2h', 'P1M', 'P1Y', 'PT-1H', ' PT1H', 'P1.5D'])('refuses %p', (text) => {
    expect(parseIsoDurationSeconds(text)).toBeNull();
  });
});
