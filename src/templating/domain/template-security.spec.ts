import { describe, expect, it } from '@jest/globals';
import { IncludeTag, RenderTag } from 'liquidjs';
import { exampleTemplateContext } from '../testing/example-context.js';
import { renderTemplate } from './render-template.js';
import { TemplateError, TemplateErrorCode } from './template-error.js';
import { createTemplateEngine } from './template-engine.js';

const context = exampleTemplateContext();

// What a template must never be able to print.
const SECRETS = [process.env.PATH, process.cwd(), 'root:', '[native code]', 'function'].filter(
  (s): s is string => typeof s === 'string' && s.length > 0,
);

function outcome(template: string): { rendered?: string; error?: TemplateError } {
  try {
    return { rendered: renderTemplate(template, context) };
  } catch (error) {
    if (error instanceof TemplateError) return { error };
    throw error;
  }
}

function expectRejected(template: string, code: TemplateErrorCode): TemplateError {
  const { rendered, error } = outcome(template);
  expect(rendered).toBeUndefined();
  expect(error?.code).toBe(code);
  return error as TemplateError;
}

describe('template sandbox', () => {
  it('cannot call functions', () => {
    expectRejected("{{ constructor.constructor('return process')() }}", TemplateErrorCode.SyntaxError);
    expectRejected("{{ params.constructor.constructor('return process.env')() }}", TemplateErrorCode.SyntaxError);
  });

  it.each([
    '{{ constructor }}',
    '{{ constructor.constructor }}',
    '{{ params.constructor }}',
    '{{ params.__proto__ }}',
    "{{ params['constructor'] }}",
    "{{ params['__proto__'] }}",
    '{{ params.toString }}',
    '{{ params.hasOwnProperty }}',
    '{{ params.regions.constructor }}',
    '{{ params.regions.map }}',
    '{{ params.regions[0].constructor }}',
    '{{ ds.constructor }}',
    '{{ ds.toString }}',
    '{{ xcom.extract.__proto__ }}',
    '{{ dag_run.conf.constructor.name }}',
    '{{ this }}',
    '{{ self }}',
    '{{ process }}',
    '{{ process.env.PATH }}',
    '{{ global }}',
    '{{ globalThis }}',
    '{{ require }}',
    '{{ module }}',
    '{{ Function }}',
    '{{ eval }}',
  ])('has no %s', (template) => {
    expectRejected(template, TemplateErrorCode.UnknownVariable);
  });

  it.each([
    "{{ params | map: 'constructor' }}",
    "{{ params.regions | map: 'constructor' }}",
    "{{ params.regions | map: '__proto__' }}",
    "{{ params.regions | sort: 'constructor' }}",
    "{{ xcom.extract | map: 'constructor' | first }}",
    "{{ params.regions | where_exp: 'r', 'r.constructor' }}",
    "{{ params.regions | group_by_exp: 'r', 'r.constructor' }}",
    '{{ params | inspect }}',
    '{{ params | jsonify }}',
  ])('exposes nothing inherited through filters: %s', (template) => {
    const { rendered } = outcome(template);
    for (const secret of SECRETS) expect(rendered ?? '').not.toContain(secret);
  });

  it.each([
    "{% include '/etc/passwd' %}",
    "{% include '../../../../etc/passwd' %}",
    "{%- include 'header.sql' -%}",
    "{% render 'x' %}",
    "{% render '/etc/passwd' %}",
    "{% layout '/etc/passwd' %}",
    '{% block body %}x{% endblock %}',
  ])('cannot read files: %s', (template) => {
    const error = expectRejected(template, TemplateErrorCode.UnknownTag);
    expect(error.message).not.toContain('root:');
  });

  it('has nothing to read even if a file tag were registered again', () => {
    const engine = createTemplateEngine();
    engine.registerTag('include', IncludeTag);
    engine.registerTag('render', RenderTag);
    for (const template of ["{% include '/etc/passwd' %}", "{% render '/etc/hostname' %}", "{% include 'package.json' %}"]) {
      expect(() => engine.parseAndRenderSync(template, context)).toThrow(/Failed to lookup/);
    }
  });

  it('cannot write into the context', () => {
    expectRejected('{% increment ds %}', TemplateErrorCode.UnknownTag);
    expectRejected('{% decrement run_id %}', TemplateErrorCode.UnknownTag);
    renderTemplate("{% assign dag_id = 'evil' %}{% capture run_id %}evil{% endcapture %}", context);
    expect(context.dag_id).toBe('daily_sales');
    expect(context.run_id).toBe('scheduled__2024-01-15T06:00:00+00:00');
  });

  it('cannot read the clock', () => {
    expectRejected("{{ 'now' | date: '%Y' }}", TemplateErrorCode.InvalidFilterArgument);
    expectRejected("{{ 'today' | format_date: '%Y' }}", TemplateErrorCode.InvalidFilterArgument);
    expectRejected("{{ 'now' | date_to_xmlschema }}", TemplateErrorCode.UnknownFilter);
  });
});

describe('template limits', () => {
  function expectFastLimit(template: string, message: string): void {
    const started = performance.now();
    const error = expectRejected(template, TemplateErrorCode.LimitExceeded);
    expect(error.message).toContain(message);
    expect(performance.now() - started).toBeLessThan(2_000);
  }

  it('stops a huge range before looping', () => {
    expectFastLimit('{% for i in (1..100000000) %}x{% endfor %}', 'template exceeded the memory limit of 1000000 units');
    expectFastLimit('{% assign r = (1..100000000) %}', 'memory limit');
    expectFastLimit('{{ (1..100000000) | join }}', 'memory limit');
  });

  it('stops a template that builds an enormous string', () => {
    expectFastLimit(
      "{% assign s = 'x' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}",
      'memory limit',
    );
  });

  it('stops nested loops on the render time limit', () => {
    expectFastLimit(
      '{% for i in (1..1000) %}{% for j in (1..1000) %}{% for k in (1..1000) %}x{% endfor %}{% endfor %}{% endfor %}',
      'template took longer than the render limit of 200 ms',
    );
  });

  it('refuses to parse an over-long template', () => {
    expectFastLimit(`{{ ds }}${'x'.repeat(1_000_001)}`, 'template is longer than the limit of 1000000 characters');
  });
});
