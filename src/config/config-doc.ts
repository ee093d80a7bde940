import type { z } from 'zod';
import { CONFIG_SCHEMA } from './config.js';

export type ConfigVariableDoc = { variable: string; default: string; description: string };

/** One row per variable of the schema, in schema order; throws when a variable has no description. */
export function configVariables(schema: z.ZodObject = CONFIG_SCHEMA): ConfigVariableDoc[] {
  return Object.entries(schema.shape).map(([variable, type]) => {
    const meta = (type as z.ZodType).meta() as { description?: string; defaultText?: string } | undefined;
    if (!meta?.description) throw new Error(`configuration variable ${variable} has no description (src/config/config.ts)`);
    return { variable, default: meta.defaultText ?? defaultOf(type as z.ZodType), description: meta.description };
  });
}

function defaultOf(type: z.ZodType): string {
  const parsed = type.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return 'unset';
  return `\`${String(parsed.data)}\``;
}

/** The configuration reference table of docs/configuration.md. */
export function renderConfigReference(schema: z.ZodObject = CONFIG_SCHEMA): string {
  const rows = configVariables(schema).map((v) => `| \`${v.variable}\` | ${v.default} | ${v.description.replace(/\|/g, '\\|')} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}
