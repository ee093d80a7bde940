import { Liquid } from 'liquidjs';
import { WEFT_FILTERS, type FilterThis } from './template-filters.js';

/**
 * Bounds on one template (each string `renderDeep` visits counts as one). Weft's templates are short; these stop a
 * hostile one from holding the event loop (rendering is synchronous) or the heap.
 */
export const TEMPLATE_LIMITS = {
  /** Characters parsed per template: a large SQL file fits, a generated megabyte-scale blob does not. */
  parseLimit: 1_000_000,
  /** Milliseconds of rendering per template; ordinary templates take well under one. */
  renderLimit: 200,
  /** LiquidJS's allocation units (range and array elements, characters built by filters, JSON output). */
  memoryLimit: 1_000_000,
} as const;

// include/render/layout/block read other templates (we have no files to offer); increment/decrement write into the
// caller's context object, which would leak state from one render into the next.
const REMOVED_TAGS = ['include', 'render', 'layout', 'block', 'increment', 'decrement'] as const;

// The date_to_* filters read `now` from the clock and parse digits as epoch seconds; `sample` is random. A render must
// be a function of template and context alone.
const REMOVED_FILTERS = [
  'date_to_xmlschema',
  'date_to_rfc822',
  'date_to_string',
  'date_to_long_string',
  'sample',
] as const;

/**
 * `outputEscape` replaces how `{{ … }}` prints (JSON for objects by default); the shell engine
 * (render-template.ts) passes its own, which marks each value so that it can be quoted for its place.
 */
export function createTemplateEngine(opts: { outputEscape?: (this: FilterThis, value: unknown) => string } = {}): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    // `{% if params.x %}` and `{{ params.x | default: 'y' }}` may name a missing variable; nothing else may.
    lenientIf: true,
    // An empty in-memory file system: even if a file tag came back, there is nothing to read.
    templates: {},
    relativeReference: false,
    cache: false,
    timezoneOffset: 0,
    locale: 'en-US',
    outputEscape: opts.outputEscape ?? outputAsJson,
    ...TEMPLATE_LIMITS,
  });
  for (const tag of REMOVED_TAGS) delete liquid.tags[tag];
  for (const filter of REMOVED_FILTERS) liquid.unregisterFilter(filter);
  for (const [name, handler] of Object.entries(WEFT_FILTERS)) liquid.registerFilter(name, handler);
  return liquid;
}

/**
 * Objects and arrays print as JSON (Liquid would print `[object Object]` or glue array items together), so
 * `{{ xcom.extract.return_value }}` can go straight into an HTTP body. `| raw` opts out.
 */
export function outputAsJson(this: FilterThis, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'object') return String(value);
  const json = JSON.stringify(value);
  this.context.memoryLimit.use(json.length);
  return json;
}
