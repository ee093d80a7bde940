export const TemplateErrorCode = {
  UnknownVariable: 'UNKNOWN_VARIABLE',
  UnknownFilter: 'UNKNOWN_FILTER',
  UnknownTag: 'UNKNOWN_TAG',
  InvalidFilterArgument: 'INVALID_FILTER_ARGUMENT',
  LimitExceeded: 'LIMIT_EXCEEDED',
  SyntaxError: 'SYNTAX_ERROR',
  RenderFailed: 'RENDER_FAILED',
} as const;
export type TemplateErrorCode = (typeof TemplateErrorCode)[keyof typeof TemplateErrorCode];

export interface TemplateErrorDetails {
  readonly code: TemplateErrorCode;
  readonly template: string;
  /** The unknown variable, filter or tag, when the error is about one. */
  readonly identifier?: string;
  /** Where the string sat inside the value given to `renderDeep`, e.g. `headers.Authorization`. */
  readonly path?: string;
  readonly line?: number;
  readonly column?: number;
}

/** Every failure to render a template, whatever its cause inside LiquidJS. */
export class TemplateError extends Error {
  readonly code: TemplateErrorCode;
  readonly template: string;
  readonly identifier?: string;
  readonly path?: string;
  readonly line?: number;
  readonly column?: number;

  /** `cause` keeps the LiquidJS error for logs; the message is what users see. */
  constructor(problem: string, details: TemplateErrorDetails, cause?: unknown) {
    super(`${problem} in template ${quoteTemplate(details.template)}${describeWhere(details)}`, { cause });
    this.name = 'TemplateError';
    this.code = details.code;
    this.template = details.template;
    this.identifier = details.identifier;
    this.path = details.path;
    this.line = details.line;
    this.column = details.column;
  }
}

const MAX_QUOTED_TEMPLATE = 200;

function quoteTemplate(template: string): string {
  const oneLine = template.replace(/\r?\n/g, '\\n');
  const shown = oneLine.length > MAX_QUOTED_TEMPLATE ? `${oneLine.slice(0, MAX_QUOTED_TEMPLATE)}…` : oneLine;
  return `'${shown}'`;
}

// Line and column only help when the template spans several lines (SQL files).
function describeWhere({ template, line, column, path }: TemplateErrorDetails): string {
  const parts: string[] = [];
  if (line !== undefined && template.includes('\n')) parts.push(`line ${line}, column ${column ?? 1}`);
  if (path !== undefined) parts.push(`at ${path}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
