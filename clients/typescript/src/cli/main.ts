#!/usr/bin/env node
/**
 * weft-cli: Weft from scripts and CI, over the public API only (no database, no server code).
 * Exit codes: 0 done; 1 something failed (invalid DAGs, a failed run or backfill, an API error); 2 bad usage.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { WeftApiError } from '../connection.js';
import * as backfills from './backfills.js';
import { CliFailure, Context, profilesFile, type GlobalOptions } from './context.js';
import * as dags from './dags.js';
import { logs } from './logs.js';
import * as runs from './runs.js';

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

export function program(): Command {
  const root = new Command('weft-cli')
    .description('Deploy and run Weft pipelines from the command line')
    .version('0.1.0')
    .option('--api-url <url>', 'the Weft API (default: the profile, or WEFT_API_URL)')
    .option('--api-key <key>', 'API key (default: the profile, or WEFT_API_KEY)')
    .option('--profile <name>', 'profile from the profile file (default: WEFT_PROFILE, else "default")')
    .addOption(new Option('-o, --output <format>', 'text for people, json for scripts').choices(['text', 'json']).default('text'))
    .showHelpAfterError()
    // Usage errors end in main() (exit code 2), not in process.exit; subcommands inherit this.
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  const ctx = (cmd: Command) => new Context(cmd.optsWithGlobals<GlobalOptions>());

  const dagsCmd = root.command('dags').description('validate, deploy, list, pause and unpause DAGs');
  dagsCmd
    .command('validate')
    .description('check DAG files (.json, .yaml, .yml; folders are searched) with the service’s validation, listing every problem')
    .argument('<paths...>', 'files or folders')
    .option('--offline', 'check against the JSON Schema only, without the service (cycles, cron and time zones are not checked)')
    .action((paths: string[], opts: { offline?: boolean }, cmd: Command) => dags.validate(ctx(cmd), paths, opts));
  dagsCmd
    .command('deploy')
    .description('register DAG files, showing per DAG what changes against its current version; nothing is deployed if any file is invalid')
    .argument('<paths...>', 'files or folders')
    .option('--dry-run', 'show what would change, write nothing')
    .option('--no-diff', 'do not print the diffs')
    .action((paths: string[], opts: { dryRun?: boolean; diff?: boolean }, cmd: Command) => dags.deploy(ctx(cmd), paths, opts));
  dagsCmd
    .command('list')
    .description('list DAGs')
    .option('--paused', 'only paused DAGs')
    .option('--active', 'only unpaused DAGs')
    .option('--prefix <dagIdPrefix>', 'DAG ids starting with this')
    .option('--tag <tag>', 'DAGs with this tag')
    .action((opts: { paused?: boolean; active?: boolean; prefix?: string; tag?: string }, cmd: Command) =>
      dags.list(ctx(cmd), { ...opts, ...(opts.paused ? { paused: true } : opts.active ? { paused: false } : {}) }),
    );
  dagsCmd.command('pause').description('pause DAGs: no new scheduled runs').argument('<dagIds...>').action((ids: string[], _o, cmd: Command) => dags.setPaused(ctx(cmd), ids, true));
  dagsCmd.command('unpause').description('unpause DAGs').argument('<dagIds...>').action((ids: string[], _o, cmd: Command) => dags.setPaused(ctx(cmd), ids, false));

  const runsCmd = root.command('runs').description('trigger runs and follow them');
  runsCmd
    .command('trigger')
    .description('trigger a run; with --wait, follow its tasks live and exit 0 only if the run succeeds')
    .argument('<dagId>')
    .option('--conf <json>', 'run configuration, a JSON object ({{ dag_run.conf.x }} in templates)')
    .option('--run-id <runId>', 'the run id (default: chosen by the service)')
    .option('--logical-date <date>', 'ISO 8601 date-time with offset (default: now)')
    .option('--wait', 'follow the run until it finishes; the exit code is 1 unless it succeeds')
    .action((dagId: string, opts: { conf?: string; runId?: string; logicalDate?: string; wait?: boolean }, cmd: Command) => runs.trigger(ctx(cmd), dagId, opts));
  runsCmd
    .command('wait')
    .description('follow a run (from its first transition) until it finishes; the exit code is 1 unless it succeeds')
    .argument('<dagId>')
    .argument('<runId>')
    .action((dagId: string, runId: string, _o, cmd: Command) => runs.wait(ctx(cmd), dagId, runId));

  const backfillCmd = root.command('backfill').description('backfill logical dates');
  backfillCmd
    .command('create')
    .description('create runs for every interval between two dates and show their progress until the backfill ends')
    .argument('<dagId>')
    .requiredOption('--from <date>', 'first logical date (ISO 8601 with offset)')
    .requiredOption('--to <date>', 'last logical date (ISO 8601 with offset)')
    .option('--dry-run', 'show the dates it would create and reprocess, write nothing')
    .option('--no-wait', 'return once the backfill is created')
    .option('--max-active-runs <n>', 'runs of this backfill at once', positiveInt)
    .addOption(new Option('--reprocess <behavior>', 'dates that already have a run').choices(['none', 'failed', 'completed']))
    .option('--backwards', 'newest date first')
    .option('--conf <json>', 'run configuration for every run, a JSON object')
    .action((dagId: string, opts: backfills.BackfillOptions, cmd: Command) => backfills.create(ctx(cmd), dagId, opts));

  root
    .command('logs')
    .description("print a task's log lines (every try unless --try)")
    .argument('<dagId>')
    .argument('<runId>')
    .argument('<taskId>')
    .option('--try <n>', 'one try only', positiveInt)
    .option('-f, --follow', 'keep printing new lines until the task finishes')
    .action((dagId: string, runId: string, taskId: string, opts: { try?: number; follow?: boolean }, cmd: Command) => logs(ctx(cmd), dagId, runId, taskId, opts));
  return root;
}

/** Which setting to look at when the API could not be reached or refused the key. */
function connectionHint(status: number): string {
  if (status === 0) return ` (is the service running there? the URL comes from --api-url, WEFT_API_URL or ${profilesFile()})`;
  if (status === 401) return ` (the key comes from --api-key, WEFT_API_KEY or ${profilesFile()})`;
  return '';
}

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliFailure) {
      process.stderr.write(`weft-cli: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof WeftApiError) {
      process.stderr.write(`weft-cli: ${err.message}${connectionHint(err.status)}\n${err.issues.map((i) => `  ${i.path}: ${i.message}\n`).join('')}`);
      return 1;
    }
    process.stderr.write(`weft-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
