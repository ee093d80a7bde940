import { describe, expect, it } from '@jest/globals';
import { exampleTemplateContext } from '../testing/example-context.js';
import { renderTemplate } from './render-template.js';
import { TemplateError, TemplateErrorCode } from './template-error.js';

const context = exampleTemplateContext();
const render = (template: string) => renderTemplate(template, context);

function errorOf(template: string): TemplateError {
  try {
    render(template);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected '${template}' to fail`);
}

describe('add_days', () => {
  it.each([
    ["{{ '2024-01-15T06:00:00Z' | add_days: 2 }}", '2024-01-17T06:00:00Z'],
    ["{{ '2024-01-15T06:00:00' | add_days: 2 }}", '2024-01-17T06:00:00'],
    ["{{ '2024-01-15T06:00:00.5+01:00' | add_days: -20 }}", '2023-12-26T06:00:00.5+01:00'],
    ["{{ ds | add_days: '3' }}", '2024-01-18'],
    ["{{ ds | add_days: '-3' }}", '2024-01-12'],
    ['{{ data_interval_end | add_days: -1 }}', '2024-01-15T06:00:00+00:00'],
    ['{{ ds | add_days: 1 | add_days: 1 }}', '2024-01-17'],
  ])('%s → %s', (template, output) => {
    expect(render(template)).toBe(output);
  });

  it.each([
    ['{{ ds | add_days: 1.5 }}', "filter 'add_days': expected a whole number of days, got number 1.5"],
    ['{{ ds | add_days }}', "filter 'add_days': expected a whole number of days, got nothing"],
    ['{{ ds | add_days: params.regions }}', 'filter \'add_days\': expected a whole number of days, got object ["eu","us"]'],
    ["{{ 'now' | add_days: 1 }}", "filter 'add_days': expected a date (YYYY-MM-DD, YYYYMMDD, an ISO 8601 timestamp or YYYYMMDDTHHMMSS), got 'now'"],
    ['{{ params.days | add_days: 1 }}', "filter 'add_days': expected a date"],
    ["{{ '9999-12-31' | add_days: 1 }}", "filter 'add_days': the result falls outside the years 0000-9999"],
  ])('rejects %s', (template, message) => {
    const error = errorOf(template);
    expect(error.code).toBe(TemplateErrorCode.InvalidFilterArgument);
    expect(error.identifier).toBe('add_days');
    expect(error.message).toContain(message);
    expect(error.message).toContain(`in template '${template}'`);
  });
});

describe('ds_add', () => {
  it('shifts a YYYY-MM-DD date like macros.ds_add', () => {
    expect(render("{{ '2024-02-28' | ds_add: 2 }}")).toBe('2024-03-01');
  });

  it.each(['{{ ds_nodash | ds_add: 1 }}', '{{ ts | ds_add: 1 }}', "{{ ds | ds_add: 'x' }}"])('rejects %s', (template) => {
    const error = errorOf(template);
    expect(error.code).toBe(TemplateErrorCode.InvalidFilterArgument);
    expect(error.identifier).toBe('ds_add');
  });
});

describe('format_date and date', () => {
  it.each([
    ["{{ ts | format_date: '%Y-%m-%dT%H:%M:%S' }}", '2024-01-15T06:00:00'],
    ["{{ ds_nodash | format_date: '%d/%m/%Y' }}", '15/01/2024'],
    ["{{ ts_nodash | format_date: '%H%M' }}", '0600'],
    ["{{ '2024-01-15T06:00:00+02:00' | format_date: '%H:%M %z' }}", '04:00 +0000'],
    ["{{ logical_date | format_date: '%H:%M %z', 'Asia/Kolkata' }}", '11:30 +0530'],
    ["{{ logical_date | format_date: '%H:%M', 'UTC' }}", '06:00'],
    // New York is on summer time in July and on standard time in January.
    ["{{ '2024-07-15T06:00:00Z' | format_date: '%H:%M %z', 'America/New_York' }}", '02:00 -0400'],
    ["{{ '2024-01-15T06:00:00Z' | format_date: '%H:%M %z', 'America/New_York' }}", '01:00 -0500'],
    ["{{ ds | format_date: '%a %b %j' }}", 'Mon Jan 015'],
    ["{{ ds | date: '%Y/%m/%d' }}", '2024/01/15'],
  ])('%s → %s', (template, output) => {
    expect(render(template)).toBe(output);
  });

  it.each([
    ['{{ ds | format_date }}', 'format_date', "expected a format such as '%Y-%m-%d', got nothing"],
    ["{{ ds | format_date: '' }}", 'format_date', "expected a format such as '%Y-%m-%d', got ''"],
    ["{{ ds | format_date: '%Y', 'Mars/Olympus' }}", 'format_date', "unknown time zone 'Mars/Olympus'"],
    ["{{ ds | format_date: '%Y', -300 }}", 'format_date', 'unknown time zone number -300'],
    ["{{ 'now' | date: '%Y' }}", 'date', "got 'now'"],
    ["{{ 'today' | format_date: '%Y' }}", 'format_date', "got 'today'"],
    // LiquidJS's own date filter would read these digits as seconds since 1970.
    ["{{ '1705298400' | date: '%Y' }}", 'date', "got '1705298400'"],
    ["{{ 1705298400 | date: '%Y' }}", 'date', 'got number 1705298400'],
  ])('rejects %s', (template, filter, message) => {
    const error = errorOf(template);
    expect(error.code).toBe(TemplateErrorCode.InvalidFilterArgument);
    expect(error.identifier).toBe(filter);
    expect(error.message).toMatch(new RegExp(`^filter '${filter}': `));
    expect(error.message).toContain(message);
  });
});

describe('ds, ds_nodash, ts, ts_nodash filters', () => {
  it.each([
    ['{{ data_interval_start | ds }}', '2024-01-15'],
    ['{{ data_interval_start | ds_nodash }}', '20240115'],
    ['{{ ds | ts }}', '2024-01-15T00:00:00+00:00'],
    ["{{ '2024-01-15T01:00:00-05:00' | ts }}", '2024-01-15T06:00:00+00:00'],
    ['{{ data_interval_end | ts_nodash }}', '20240116T060000'],
    ['{{ ds_nodash | ds }}', '2024-01-15'],
  ])('%s → %s', (template, output) => {
    expect(render(template)).toBe(output);
  });

  it('rejects what is not a date', () => {
    expect(errorOf('{{ run_id | ds }}').identifier).toBe('ds');
  });
});

describe('removed filters', () => {
  it.each(['date_to_xmlschema', 'date_to_rfc822', 'date_to_string', 'date_to_long_string', 'sample'])('%s is unknown', (filter) => {
    const error = errorOf(`{{ ds | ${filter} }}`);
    expect(error.code).toBe(TemplateErrorCode.UnknownFilter);
    expect(error.identifier).toBe(filter);
  });
});
