import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CONFIG, type Config } from '../config/config.js';
import { DomainError } from '../common/errors.js';
import { parseDagFile } from './domain/parse-dag-file.js';
import { DagsRepository } from './dags.repository.js';
import { DagsService } from './dags.service.js';

const DAG_FILE_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

export type FolderScanResult = { registered: string[]; unchanged: number; failed: string[]; deactivated: string[] };

/**
 * Keeps the registry in step with WEFT_DAGS_FOLDER: parses every file periodically and whenever the folder
 * changes. A file that fails is recorded as an import error and its DAG keeps its last good version.
 */
@Injectable()
export class DagFolderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('dag-folder');
  private readonly seen = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private scanning: Promise<FolderScanResult> | null = null;
  private rescanRequested = false;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly dags: DagsService,
    private readonly repo: DagsRepository,
  ) {}

  get folder(): string | undefined {
    return this.config.dagsFolder && resolve(this.config.dagsFolder);
  }

  async onApplicationBootstrap(): Promise<void> {
    const folder = this.folder;
    if (!folder) return;
    this.logger.log(`watching DAG folder ${folder} (full parse every ${this.config.dagsFolderIntervalSec}s and on change)`);
    await this.scan();
    this.timer = setInterval(() => void this.scan(), this.config.dagsFolderIntervalSec * 1000);
    this.timer.unref();
    try {
      this.watcher = watch(folder, { recursive: true }, () => this.scheduleScan());
      this.watcher.on('error', (err) => this.logger.warn(`watching ${folder} failed, relying on the periodic parse: ${err.message}`));
    } catch (err) {
      this.logger.warn(`cannot watch ${folder}, relying on the periodic parse: ${(err as Error).message}`);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private scheduleScan(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.scan(), 200);
  }

  /** One full pass; concurrent callers share it, and a request during a pass triggers one more pass. */
  async scan(): Promise<FolderScanResult> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = null;
      if (this.rescanRequested) {
        this.rescanRequested = false;
        void this.scan();
      }
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<FolderScanResult> {
    const folder = this.folder;
    const result: FolderScanResult = { registered: [], unchanged: 0, failed: [], deactivated: [] };
    if (!folder) return result;
    try {
      const files = await listDagFiles(folder);
      for (const file of files) {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          continue; // removed between listing and reading; the next pass sees it gone
        }
        const hash = createHash('sha256').update(text).digest('hex');
        if (this.seen.get(file) === hash) {
          result.unchanged++;
          continue;
        }
        const ok = await this.importFile(file, text);
        if (ok) result.registered.push(ok);
        else result.failed.push(file);
        this.seen.set(file, hash);
      }
      for (const file of [...this.seen.keys()]) if (!files.includes(file)) this.seen.delete(file);
      result.deactivated = await this.repo.deactivateMissingFolderDags(folder, files);
      await this.repo.clearImportErrorsOutside(folder, files);
      for (const dagId of result.deactivated) this.logger.log(`DAG ${dagId} deactivated: its file left the folder`);
    } catch (err) {
      this.logger.error(`parsing DAG folder ${folder} failed: ${(err as Error).message}`);
    }
    return result;
  }

  /** Returns the registered DAG id, or null after recording an import error. */
  private async importFile(file: string, text: string): Promise<string | null> {
    const parsed = parseDagFile(file, text);
    if (!parsed.ok) {
      await this.fail(file, parsed.error, null);
      return null;
    }
    try {
      const { dag, changed, warnings } = await this.dags.register(parsed.value, { kind: 'folder', fileloc: file }, Buffer.byteLength(text));
      await this.repo.clearImportErrors([file]);
      if (changed) this.logger.log(`registered DAG ${dag.dagId} version ${dag.latestVersion} from ${file}`);
      // Once per version, not on every parse of the folder.
      if (changed) for (const w of warnings) this.logger.warn(`DAG ${dag.dagId} (${file}), ${w.path}: ${w.message}`);
      return dag.dagId;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      await this.fail(file, err.message, err.details ?? null);
      return null;
    }
  }

  private async fail(file: string, message: string, details: unknown): Promise<void> {
    this.logger.warn(`import error in ${file}: ${message}`);
    await this.repo.recordImportError(file, message, details);
  }
}

async function listDagFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && DAG_FILE_EXTENSIONS.has(extname(e.name).toLowerCase()) && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
