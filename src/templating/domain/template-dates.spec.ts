import { describe, expect, it } from '@jest/globals';
import {
  addDays,
  formatDs,
  formatDsNodash,
  formatTemplateDate,
  formatTs,
  formatTsNodash,
  parseTemplateDate,
  toInstant,
  type TemplateDate,
} from './template-dates.js';

function parsed(value: string): TemplateDate {
  const date = parseTemplateDate(value);
  if (!date) throw new Error(`did not parse: ${value}`);
  return date;
}

describe('parseTemplateDate', () => {
  it.each([
    ['2024-01-15', 'ds'],
    ['20240115', 'ds_nodash'],
    ['2024-01-15T06:00:00+00:00', 'iso'],
    ['2024-01-15T06:00:00Z', 'iso'],
    ['2024-01-15T06:00:00.123-05:30', 'iso'],
    ['2024-01-15T06:00:00', 'iso'],
    ['20240115T060000', 'ts_nodash'],
  ])('reads %s as %s', (value, shape) => {
    expect(parsed(value).shape).toBe(shape);
  });

  it.each([
    'now',
    'today',
    '',
    '2024-1-15',
    '2024-02-30',
    '2023-02-29',
    '2024-13-01',
    '2024-01-15T24:00:00Z',
    '2024-01-15T06:60:00Z',
    '2024-01-15T06:00:00+24:00',
    '2024-01-15 06:00:00',
    '1705298400',
    ' 2024-01-15',
  ])('rejects %j', (value) => {
    expect(parseTemplateDate(value)).toBeUndefined();
  });

  it.each([20240115, null, undefined, new Date('2024-01-15T00:00:00Z'), ['2024-01-15']])('rejects non-strings: %p', (value) => {
    expect(parseTemplateDate(value)).toBeUndefined();
  });

  it('accepts 29 February in a leap year', () => {
    expect(parsed('2024-02-29').day).toBe(29);
  });
});

describe('toInstant', () => {
  it.each([
    ['2024-01-15', '2024-01-15T00:00:00.000Z'],
    ['20240115', '2024-01-15T00:00:00.000Z'],
    ['2024-01-15T06:00:00+00:00', '2024-01-15T06:00:00.000Z'],
    ['2024-01-15T06:00:00', '2024-01-15T06:00:00.000Z'],
    ['2024-01-15T06:00:00.250Z', '2024-01-15T06:00:00.250Z'],
    ['2024-01-15T01:00:00-05:00', '2024-01-15T06:00:00.000Z'],
    ['2024-01-15T11:30:00+05:30', '2024-01-15T06:00:00.000Z'],
    ['20240115T060000', '2024-01-15T06:00:00.000Z'],
    ['0050-06-01', '0050-06-01T00:00:00.000Z'],
  ])('%s is %s', (value, iso) => {
    expect(toInstant(parsed(value)).toISOString()).toBe(iso);
  });
});

describe('addDays', () => {
  const shifted = (value: string, days: number) => {
    const moved = addDays(parsed(value), days);
    return moved && formatTemplateDate(moved);
  };

  it.each([
    ['2024-01-15', 1, '2024-01-16'],
    ['2024-01-31', 1, '2024-02-01'],
    ['2024-12-31', 1, '2025-01-01'],
    ['2024-03-01', -1, '2024-02-29'],
    ['2023-03-01', -1, '2023-02-28'],
    ['2024-01-15', 0, '2024-01-15'],
    ['2024-01-15', 366, '2025-01-15'],
    ['20240115', -15, '20231231'],
    ['2024-01-15T06:00:00+00:00', 1, '2024-01-16T06:00:00+00:00'],
    ['2024-01-15T06:00:00Z', 1, '2024-01-16T06:00:00Z'],
    ['2024-01-15T06:00:00.123456+02:00', 1, '2024-01-16T06:00:00.123456+02:00'],
    ['2024-01-15T23:30:00', 1, '2024-01-16T23:30:00'],
    ['20240115T060000', 1, '20240116T060000'],
    ['0099-12-31', 1, '0100-01-01'],
  ])('%s %+d days is %s', (value, days, expected) => {
    expect(shifted(value, days)).toBe(expected);
  });

  it('gives up outside years 0000-9999', () => {
    expect(shifted('9999-12-31', 1)).toBeUndefined();
    expect(shifted('0000-01-01', -1)).toBeUndefined();
    expect(shifted('2024-01-15', Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });
});

describe('run date formats', () => {
  const instant = new Date('2024-01-15T06:00:00Z');

  it('formats like Airflow', () => {
    expect(formatDs(instant)).toBe('2024-01-15');
    expect(formatDsNodash(instant)).toBe('20240115');
    expect(formatTs(instant)).toBe('2024-01-15T06:00:00+00:00');
    expect(formatTsNodash(instant)).toBe('20240115T060000');
  });

  it('shows milliseconds in ts only when there are some, and never in ts_nodash', () => {
    const withMillis = new Date('2024-01-15T06:00:00.042Z');
    expect(formatTs(withMillis)).toBe('2024-01-15T06:00:00.042+00:00');
    expect(formatTsNodash(withMillis)).toBe('20240115T060000');
  });

  it('uses the UTC date, not the wall date of any zone', () => {
    expect(formatDs(new Date('2024-01-15T23:59:59.999-05:00'))).toBe('2024-01-16');
  });
});
