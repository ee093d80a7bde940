import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { configVariables, renderConfigReference } from './config-doc.js';

describe('configuration reference', () => {
  it('documents every variable of the schema, with its default', () => {
    const vars = configVariables();
    expect(vars.find((v) => v.variable === 'PORT')).toEqual({ variable: 'PORT', default: '`8080`', description: 'HTTP port of the API' });
    expect(vars.find((v) => v.variable === 'DATABASE_URL')?.default).toBe('unset');
    expect(vars.find((v) => v.variable === 'WEFT_METRICS_PUBLIC')?.default).toBe('`true`');
    expect(vars.find((v) => v.variable === 'WEFT_HOME')?.default).toBe('`~/.weft` (`/var/lib/weft` as root)');
  });

  it('refuses a variable without a description', () => {
    expect(() => configVariables(z.object({ UNDOCUMENTED: z.string().optional() }))).toThrow(/UNDOCUMENTED has no description/);
  });

  it('renders a markdown table with pipes escaped', () => {
    const md = renderConfigReference(z.object({ A: z.string().default('x').meta({ description: 'a | b' }) }));
    expect(md).toBe('| variable | default | meaning |\n|---|---|---|\n| `A` | `x` | a \\| b |\n');
  });
});
