import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { exampleTemplateContext } from '../testing/example-context.js';
import { renderDeep, renderTemplate } from './render-template.js';
import { TemplateError } from './template-error.js';

// Pins every example in docs/templating.md: a table preceded by `<!-- pinned-examples: template=N output=M -->` has
// its rows rendered, and the two JSON blocks marked `<!-- example: renderDeep ... -->` are compared.
const doc = readFileSync(new URL('../../../docs/templating.md', import.meta.url), 'utf8');
const context = exampleTemplateContext();

interface PinnedExample {
  readonly template: string;
  readonly output: string;
}

function pinnedExamples(markdown: string): PinnedExample[] {
  const examples: PinnedExample[] = [];
  const lines = markdown.split('\n');
  lines.forEach((line, index) => {
    const marker = /^<!-- pinned-examples: template=(\d+) output=(\d+) -->$/.exec(line);
    if (!marker) return;
    const [templateColumn, outputColumn] = [Number(marker[1]), Number(marker[2])];
    // Skip the header row and the separator row.
    for (let row = index + 3; row < lines.length && lines[row].startsWith('|'); row++) {
      const cells = tableCells(lines[row]);
      examples.push({ template: codeSpan(cells[templateColumn - 1]), output: codeSpan(cells[outputColumn - 1]) });
    }
  });
  return examples;
}

// GFM escapes `|` inside table cells as `\|`, code spans included.
function tableCells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

function codeSpan(cell: string): string {
  const match = /^`(.*)`$/.exec(cell);
  if (!match) throw new Error(`expected a code span, got: ${cell}`);
  return match[1];
}

function jsonBlockAfter(marker: string): unknown {
  const start = doc.indexOf(`<!-- example: ${marker} -->`);
  const block = /```json\n([\s\S]*?)```/.exec(doc.slice(start));
  if (start < 0 || !block) throw new Error(`no JSON block after marker '${marker}'`);
  return JSON.parse(block[1]);
}

describe('docs/templating.md', () => {
  const examples = pinnedExamples(doc);

  it('has its pinned tables found by this test', () => {
    expect(examples.length).toBeGreaterThanOrEqual(50);
  });

  const ERROR_PREFIX = 'TemplateError: ';
  it.each(examples.filter((e) => !e.output.startsWith(ERROR_PREFIX)))('renders $template', ({ template, output }) => {
    expect(renderTemplate(template, context)).toBe(output);
  });

  it.each(examples.filter((e) => e.output.startsWith(ERROR_PREFIX)))('rejects $template', ({ template, output }) => {
    const render = () => renderTemplate(template, context);
    expect(render).toThrow(TemplateError);
    expect(render).toThrow(output.slice(ERROR_PREFIX.length));
  });

  it('renders the renderDeep example', () => {
    expect(renderDeep(jsonBlockAfter('renderDeep input'), context)).toEqual(jsonBlockAfter('renderDeep output'));
  });
});
