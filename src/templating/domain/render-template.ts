import { LiquidError } from 'liquidjs';
import { TEMPLATE_LIMITS, createTemplateEngine, outputAsJson } from './template-engine.js';
import { quoteFor, ShellQuoteError, spotsOf } from './shell-quote.js';
import type { TemplateContext } from './template-context.js';
import { TemplateError, TemplateErrorCode, type TemplateErrorDetails } from './template-error.js';
import { FilterArgumentError } from './template-filters.js';

const engine = createTemplateEngine();

/**
 * The values `{{ … }}` printed during the current shell render (rendering is synchronous, so one list serves).
 * Each value is printed as a marker; once the whole command is rendered, each marker is replaced by its value
 * quoted for where it stands (shell-quote.ts).
 */
let shellValues: string[] | null = null;
const MARKER = /\uE000(\d+)\uE001/g;

const shellEngine = createTemplateEngine({
  outputEscape(value) {
    const text = outputAsJson.call(this, value);
    if (!shellValues) return text;
    shellValues.push(text);
    return `\uE000${shellValues.length - 1}\uE001`;
  },
});
/** The documented opt-out: a trusted fragment (`{{ params.flags | shell_trusted }}`) is inserted as it is. */
shellEngine.registerFilter('shell_trusted', { handler: (value: unknown) => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '')), raw: true });
// `| raw` keeps its meaning (no JSON printing) but, in a shell command, is still quoted like any value.
shellEngine.registerFilter('raw', (value: unknown) => String(value ?? ''));

/**
 * Renders a shell task's `command`: every value is quoted for the place it lands in (shell-quote.ts), so run conf,
 * params and XCom reach the command as data, never as shell syntax. Throws TemplateError.
 */
export function renderShellCommand(template: string, context: TemplateContext, path = 'command'): string {
  if (!template.includes('{{') && !template.includes('{%')) return template;
  const values: string[] = [];
  shellValues = values;
  let rendered: string;
  try {
    rendered = shellEngine.parseAndRenderSync(template, context) as string;
  } catch (error) {
    throw toTemplateError(error, template, path);
  } finally {
    shellValues = null;
  }
  try {
    const spots = spotsOf(rendered, new RegExp(MARKER.source, 'y'));
    let n = 0;
    return rendered.replace(MARKER, (_m, index: string) => {
      const value = values[Number(index)];
      const spot = spots[n++];
      if (value === undefined || spot === undefined) throw new ShellQuoteError('the command holds text that looks like a value marker (U+E000)');
      return quoteFor(spot, value);
    });
  } catch (error) {
    if (!(error instanceof ShellQuoteError)) throw error;
    throw new TemplateError(error.message, { code: TemplateErrorCode.RenderFailed, template, path }, error);
  }
}

/** Renders one template string; throws TemplateError. */
export function renderTemplate(template: string, context: TemplateContext): string {
  return renderString(template, context, undefined);
}

/**
 * Renders every string inside plain objects and arrays (values only, never keys) and returns a new value of the same
 * shape; numbers, booleans, null and other objects pass through unchanged. For HTTP bodies, headers, SQL, args.
 */
export function renderDeep<T>(value: T, context: TemplateContext): T {
  return renderAt(value, context, undefined) as T;
}

/** A template that can never render, and where it sits (`['headers', 'X-Run']`, `['args', 0]`; [] for the value itself). */
export type TemplateParseProblem = { path: (string | number)[]; message: string };

/**
 * Every string inside `value` (as `renderDeep` visits them; with `shell`, the value is a shell `command`) that fails
 * to parse whatever its context: a syntax error, an unknown filter or tag, a template over the length limit. Unknown
 * variables depend on the run and are left to rendering. Registration refuses a DAG with such a template, which
 * would otherwise fail every attempt of its task.
 */
export function templateParseProblems(value: unknown, opts: { shell?: boolean } = {}): TemplateParseProblem[] {
  const problems: TemplateParseProblem[] = [];
  const visit = (item: unknown, path: (string | number)[]): void => {
    if (typeof item === 'string') {
      if (!item.includes('{{') && !item.includes('{%')) return;
      try {
        (opts.shell ? shellEngine : engine).parse(item);
      } catch (error) {
        problems.push({ path, message: toTemplateError(error, item, undefined).message });
      }
    } else if (Array.isArray(item)) {
      item.forEach((inner, index) => visit(inner, [...path, index]));
    } else if (isPlainObject(item)) {
      for (const [key, inner] of Object.entries(item)) visit(inner, [...path, key]);
    }
  };
  visit(value, []);
  return problems;
}

function renderAt(value: unknown, context: TemplateContext, path: string | undefined): unknown {
  if (typeof value === 'string') return renderString(value, context, path);
  if (Array.isArray(value)) return value.map((item, index) => renderAt(item, context, `${path ?? ''}[${index}]`));
  if (isPlainObject(value)) {
    // fromEntries defines own properties, so a `__proto__` key stays data and never becomes a prototype.
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, renderAt(item, context, childPath(path, key))]),
    );
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function childPath(parent: string | undefined, key: string): string {
  const step = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === undefined) return step;
  return step.startsWith('[') ? `${parent}${step}` : `${parent}.${step}`;
}

function renderString(template: string, context: TemplateContext, path: string | undefined): string {
  // Nothing to render: skip the parser (request bodies are mostly plain strings).
  if (!template.includes('{{') && !template.includes('{%')) return template;
  try {
    return engine.parseAndRenderSync(template, context) as string;
  } catch (error) {
    throw toTemplateError(error, template, path);
  }
}

function toTemplateError(error: unknown, template: string, path: string | undefined): TemplateError {
  const cause = rootCause(error);
  const at = { template, path, ...position(error) };
  const fail = (code: TemplateErrorCode, problem: string, identifier?: string): TemplateError =>
    new TemplateError(problem, { ...at, code, identifier } satisfies TemplateErrorDetails, error);

  if (cause instanceof FilterArgumentError) {
    return fail(TemplateErrorCode.InvalidFilterArgument, cause.message, cause.filter);
  }
  const variable = undefinedVariable(cause);
  if (variable !== undefined) {
    return fail(TemplateErrorCode.UnknownVariable, `unknown variable '${variable}'`, variable);
  }

  const message = stripPosition(cause.message);
  const filter = /^undefined filter: (.+)$/.exec(message)?.[1];
  if (filter !== undefined) return fail(TemplateErrorCode.UnknownFilter, `unknown filter '${filter}'`, filter);
  const tag = /^tag "(.+)" not found$/.exec(message)?.[1];
  if (tag !== undefined) return fail(TemplateErrorCode.UnknownTag, `unknown tag '${tag}'`, tag);

  const limit = limitProblem(message);
  if (limit !== undefined) return fail(TemplateErrorCode.LimitExceeded, limit);
  if (isSyntaxError(error)) return fail(TemplateErrorCode.SyntaxError, `syntax error: ${message}${jinjaHint(template)}`);
  return fail(TemplateErrorCode.RenderFailed, `render failed: ${message}`);
}

/**
 * Parentheses inside `{{ … }}` or `{% … %}`: most likely Jinja written for Airflow (`macros.ds_add(ds, 7)`,
 * `default('x')`), which LiquidJS reports as "invalid range syntax". Says what to write instead.
 */
function jinjaHint(template: string): string {
  if (!/\{[{%][^}]*\(/.test(template)) return '';
  return " (Liquid, not Jinja: nothing is called with parentheses, and filters take their arguments after a colon, e.g. ds | ds_add: 7 or x | default: 'y'; see 'From Airflow' in docs/templating.md)";
}

function rootCause(error: unknown): Error {
  let current: unknown = error;
  while (LiquidError.is(current) && current.originalError !== undefined) current = current.originalError;
  return current instanceof Error ? current : new Error(String(current));
}

// LiquidJS raises an internal error carrying `variableName`; it names the first missing segment (`params.x` in
// `params.x.y`).
function undefinedVariable(cause: Error): string | undefined {
  const name = (cause as { variableName?: unknown }).variableName;
  return cause.name === 'InternalUndefinedVariableError' && typeof name === 'string' ? name : undefined;
}

function limitProblem(message: string): string | undefined {
  switch (message) {
    case 'parse length limit exceeded':
      return `template is longer than the limit of ${TEMPLATE_LIMITS.parseLimit} characters`;
    case 'template render limit exceeded':
      return `template took longer than the render limit of ${TEMPLATE_LIMITS.renderLimit} ms`;
    case 'memory alloc limit exceeded':
      return `template exceeded the memory limit of ${TEMPLATE_LIMITS.memoryLimit} units`;
    default:
      return undefined;
  }
}

function isSyntaxError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TokenizationError' || error.name === 'ParseError');
}

function position(error: unknown): { line?: number; column?: number } {
  if (!LiquidError.is(error)) return {};
  const [line, column] = error.token.getPosition();
  return { line, column };
}

function stripPosition(message: string): string {
  return message.replace(/, line:\d+, col:\d+$/, '');
}
