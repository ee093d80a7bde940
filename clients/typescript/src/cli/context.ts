/**
 * What every weft-cli command shares: the connection (flags, then an explicitly chosen profile, then WEFT_API_URL /
 * WEFT_API_KEY, then the default profile), the output mode, and the failure that sets the exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Client } from '../generated/client/index.js';
import { clientFor } from '../connection.js';

export type GlobalOptions = { apiUrl?: string; apiKey?: string; profile?: string; output: 'text' | 'json' };
export type Profile = { apiUrl?: string; apiKey?: string };

/** A command that ends with this exits with `exitCode` (1: something failed, the output says what). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The profile file: WEFT_PROFILES_FILE, or ~/.config/weft/profiles.yaml (XDG_CONFIG_HOME honoured). */
export function profilesFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEFT_PROFILES_FILE ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'weft', 'profiles.yaml');
}

function readProfile(name: string, required: boolean, env: NodeJS.ProcessEnv): Profile {
  const file = profilesFile(env);
  if (!existsSync(file)) {
    if (required) throw new CliFailure(`profile '${name}' asked for, but there is no profile file ${file}`, 2);
    return {};
  }
  const all = (parse(readFileSync(file, 'utf8')) ?? {}) as { profiles?: Record<string, Profile> };
  const profile = all.profiles?.[name];
  if (!profile) {
    if (required) throw new CliFailure(`no profile '${name}' in ${file}`, 2);
    return {};
  }
  return profile;
}

export type Resolved = { apiUrl: string; apiKey?: string };

/** Flags first; then the profile named by --profile/WEFT_PROFILE; then WEFT_API_URL/WEFT_API_KEY; then profile 'default'. */
export function resolveConnection(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Resolved {
  const named = opts.profile ?? env.WEFT_PROFILE;
  const chosen = named ? readProfile(named, true, env) : {};
  const fallback = named ? {} : readProfile('default', false, env);
  const apiUrl = opts.apiUrl ?? chosen.apiUrl ?? env.WEFT_API_URL ?? fallback.apiUrl;
  const apiKey = opts.apiKey ?? chosen.apiKey ?? env.WEFT_API_KEY ?? fallback.apiKey;
  if (!apiUrl) throw new CliFailure(`no API URL: pass --api-url, set WEFT_API_URL, or add a profile to ${profilesFile(env)}`, 2);
  return { apiUrl: apiUrl.replace(/\/+$/, ''), ...(apiKey ? { apiKey } : {}) };
}

export class Context {
  private cached?: Client;
  private resolved?: Resolved;

  constructor(readonly opts: GlobalOptions) {}

  get json(): boolean {
    return this.opts.output === 'json';
  }

  get connection(): Resolved {
    return (this.resolved ??= resolveConnection(this.opts));
  }

  get client(): Client {
    return (this.cached ??= clientFor({ baseUrl: this.connection.apiUrl, ...(this.connection.apiKey ? { apiKey: this.connection.apiKey } : {}) }));
  }

  /** Text for people (stdout); nothing in JSON mode. */
  say(line = ''): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  /** The command's result in JSON mode (one JSON document on stdout). */
  result(value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

/** Fixed-width columns for text output. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}
