import type pg from 'pg';

export const SQL_DIR: string;
export function readSqlObjects(client: pg.Client): Promise<Map<string, string>>;
export function readSqlSources(dir?: string): Map<string, string>;
export function compareSqlObjects(database: Map<string, string>, sources: Map<string, string>): string[];
export function migrationFor(
  client: pg.Client,
  database: Map<string, string>,
  sources: Map<string, string>,
): Promise<{ sql: string; problems: string[]; after: Map<string, string> }>;
