import { describe, expect, it } from '@jest/globals';
import { exampleTemplateContext } from '../testing/example-context.js';
import { renderDeep, renderTemplate } from './render-template.js';
import { buildTemplateContext } from './template-context.js';
import { TemplateError, TemplateErrorCode } from './template-error.js';

const context = exampleTemplateContext();

function errorOf(render: () => unknown): TemplateError {
  try {
    render();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe(renderTemplate.name, () => {
  it('returns text without template syntax unchanged', () => {
    expect(renderTemplate('SELECT * FROM sales WHERE a = {b}', context)).toBe('SELECT * FROM sales WHERE a = {b}');
    expect(renderTemplate('', context)).toBe('');
  });

  it('renders a multi-line SQL template', () => {
    const sql = [
      'DELETE FROM {{ params.table }} WHERE day = DATE {{ ds | json }};',
      "{% for region in params.regions %}INSERT INTO {{ params.table }} SELECT * FROM staging_{{ region }} WHERE day >= '{{ data_interval_start | ds }}';",
      '{% endfor %}',
    ].join('\n');
    expect(renderTemplate(sql, context)).toBe(
      [
        'DELETE FROM sales WHERE day = DATE "2024-01-15";',
        "INSERT INTO sales SELECT * FROM staging_eu WHERE day >= '2024-01-15';",
        "INSERT INTO sales SELECT * FROM staging_us WHERE day >= '2024-01-15';",
        '',
      ].join('\n'),
    );
  });

  it('prints null as nothing, and objects and arrays as JSON unless raw', () => {
    const withNull = buildTemplateContext({
      dagId: 'd',
      runId: 'r',
      logicalDate: new Date(0),
      dataIntervalStart: new Date(0),
      dataIntervalEnd: new Date(0),
      xcom: { t: { return_value: null, nested: [{ a: [1, 2] }, 'x'] } },
    });
    expect(renderTemplate('[{{ xcom.t.return_value }}]', withNull)).toBe('[]');
    expect(renderTemplate('{{ xcom.t.nested }}', withNull)).toBe('[{"a":[1,2]},"x"]');
    expect(renderTemplate('{{ params.regions | raw }}', context)).toBe('euus');
    expect(renderTemplate('{% echo params.regions %}', context)).toBe('["eu","us"]');
  });

  it('keeps assignments inside one render', () => {
    expect(renderTemplate("{% assign ds = 'shadowed' %}{{ ds }}", context)).toBe('shadowed');
    expect(renderTemplate('{{ ds }}', context)).toBe('2024-01-15');
  });

  it('lets if, unless and default name a missing variable', () => {
    expect(renderTemplate('{% unless dag_run.conf.skip %}run{% endunless %}', context)).toBe('run');
    expect(renderTemplate("{{ params.nope | default: 'fallback' }}", context)).toBe('fallback');
  });

  describe('errors', () => {
    it('names the unknown variable and quotes the template', () => {
      const error = errorOf(() => renderTemplate('echo {{ dss }}', context));
      expect(error).toBeInstanceOf(TemplateError);
      expect(error.name).toBe('TemplateError');
      expect(error.message).toBe("unknown variable 'dss' in template 'echo {{ dss }}'");
      expect(error).toMatchObject({ code: TemplateErrorCode.UnknownVariable, identifier: 'dss', template: 'echo {{ dss }}' });
      expect((error.cause as Error).name).toBe('UndefinedVariableError');
    });

    it('names the first missing segment of a path', () => {
      const error = errorOf(() => renderTemplate('{{ dag_run.conf.region.code }}', context));
      expect(error.identifier).toBe('dag_run.conf.region.code');
      expect(errorOf(() => renderTemplate('{{ xcom.nope.return_value }}', context)).identifier).toBe('xcom.nope');
    });

    it('adds line and column when the template has several lines', () => {
      const error = errorOf(() => renderTemplate('SELECT 1\nFROM {{ params.tabel }}', context));
      expect(error.message).toBe(
        "unknown variable 'params.tabel' in template 'SELECT 1\\nFROM {{ params.tabel }}' (line 2, column 9)",
      );
      expect(error).toMatchObject({ line: 2, column: 9 });
    });

    it('quotes at most 200 characters of a long template', () => {
      const template = `${'x'.repeat(300)}{{ nope }}`;
      const error = errorOf(() => renderTemplate(template, context));
      expect(error.message).toBe(`unknown variable 'nope' in template '${'x'.repeat(200)}…'`);
      expect(error.template).toBe(template);
    });

    it.each([
      ['{{ ds | nope }}', TemplateErrorCode.UnknownFilter, "unknown filter 'nope' in template '{{ ds | nope }}'"],
      ['{% nope %}', TemplateErrorCode.UnknownTag, "unknown tag 'nope' in template '{% nope %}'"],
      ['{% increment ds %}', TemplateErrorCode.UnknownTag, "unknown tag 'increment' in template '{% increment ds %}'"],
      ['{{ ds ', TemplateErrorCode.SyntaxError, 'syntax error: output "{{ ds " not closed in template \'{{ ds \''],
      ['{% if %}x{% endif %}', TemplateErrorCode.SyntaxError, 'syntax error: invalid value expression: "" in template'],
      ['{% for x in params.regions %}', TemplateErrorCode.SyntaxError, 'syntax error: tag {% for x in params.regions %} not closed'],
    ])('%s fails with %s', (template, code, message) => {
      const error = errorOf(() => renderTemplate(template, context));
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    });

    it.each(["{{ macros.ds_add(ds, 7) }}", "{{ params.table | default('orders') }}", "{% if (ds) %}x{% endif %}"])(
      'says that %s is Jinja and what Liquid takes instead',
      (template) => {
        const error = errorOf(() => renderTemplate(template, context));
        expect(error.code).toBe(TemplateErrorCode.SyntaxError);
        expect(error.message).toMatch(/^syntax error: .* \(Liquid, not Jinja: nothing is called with parentheses, and filters take their arguments after a colon, e\.g\. ds \| ds_add: 7 or x \| default: 'y'; see 'From Airflow' in docs\/templating\.md\) in template /);
      },
    );

    it('adds no Jinja hint to a syntax error without parentheses', () => {
      expect(errorOf(() => renderTemplate('{{ ds ', context)).message).not.toContain('Jinja');
    });

    it('reports anything else LiquidJS throws as RENDER_FAILED', () => {
      const unprintable = buildTemplateContext({
        dagId: 'd',
        runId: 'r',
        logicalDate: new Date(0),
        dataIntervalStart: new Date(0),
        dataIntervalEnd: new Date(0),
        xcom: { t: { return_value: { big: 1n } } },
      });
      const error = errorOf(() => renderTemplate('{{ xcom.t.return_value }}', unprintable));
      expect(error.code).toBe(TemplateErrorCode.RenderFailed);
      expect(error.message).toMatch(/^render failed: .*BigInt/);
    });
  });
});

describe(renderDeep.name, () => {
  it('renders strings at any depth and leaves other values alone', () => {
    const value = {
      url: 'https://api.example.com/{{ dag_id }}',
      retries: 3,
      verify: true,
      proxy: null,
      missing: undefined,
      nested: { list: ['{{ ds }}', 7, ['{{ ds_nodash }}', { deep: '{{ xcom.extract.row_count }}' }]] },
    };
    expect(renderDeep(value, context)).toEqual({
      url: 'https://api.example.com/daily_sales',
      retries: 3,
      verify: true,
      proxy: null,
      missing: undefined,
      nested: { list: ['2024-01-15', 7, ['20240115', { deep: '42' }]] },
    });
  });

  it('renders a bare string or array', () => {
    expect(renderDeep('{{ ds }}', context)).toBe('2024-01-15');
    expect(renderDeep(['{{ ds }}', '{{ ts }}'], context)).toEqual(['2024-01-15', '2024-01-15T06:00:00+00:00']);
    expect(renderDeep(42, context)).toBe(42);
  });

  it('does not render keys', () => {
    expect(renderDeep({ '{{ ds }}': '{{ ds }}' }, context)).toEqual({ '{{ ds }}': '2024-01-15' });
  });

  it('returns a copy and leaves its input untouched', () => {
    const value = { a: ['{{ ds }}'], b: { c: '{{ ds }}' } };
    const rendered = renderDeep(value, context);
    expect(value).toEqual({ a: ['{{ ds }}'], b: { c: '{{ ds }}' } });
    expect(rendered.a).not.toBe(value.a);
  });

  it('passes objects that are not plain data through as they are', () => {
    const when = new Date('2024-01-15T00:00:00Z');
    const map = new Map([['k', '{{ ds }}']]);
    const rendered = renderDeep({ when, map }, context);
    expect(rendered.when).toBe(when);
    expect(rendered.map).toBe(map);
  });

  it('keeps a __proto__ key as data instead of turning it into a prototype', () => {
    const value: unknown = JSON.parse('{"__proto__": {"polluted": "{{ ds }}"}}');
    const rendered = renderDeep(value, context) as Record<string, unknown>;
    expect(Object.getPrototypeOf(rendered)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(rendered, '__proto__')?.value).toEqual({ polluted: '2024-01-15' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{{ nope }}', undefined],
    [['ok', '{{ nope }}'], '[1]'],
    [{ body: { items: [{ name: '{{ nope }}' }] } }, 'body.items[0].name'],
    [{ headers: { 'Content-Type': '{{ nope }}' } }, 'headers["Content-Type"]'],
    [{ 'x-y': ['{{ nope }}'] }, '["x-y"][0]'],
  ])('says where the failing string sits in %j', (value, path) => {
    const error = errorOf(() => renderDeep(value, context));
    expect(error.path).toBe(path);
    expect(error.message).toBe(`unknown variable 'nope' in template '{{ nope }}'${path === undefined ? '' : ` (at ${path})`}`);
  });
});
