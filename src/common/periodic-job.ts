import { DiscoveryService } from '@nestjs/core';

/** `interval` of a job that is a step of the scheduler tick (SchedulerService, TICK_STEPS) rather than on a timer of its own. */
export const EVERY_TICK = 'tick';

/**
 * A periodic job: one file each (`*.job.ts`), a Nest provider marked `@Periodic()`, found at start by discovery
 * (`periodicJobs`). `PeriodicJobsHost` runs each job with a numeric interval on a timeout of its own in
 * @nestjs/schedule's SchedulerRegistry, scheduled again only once the previous run finished, so runs of one job never
 * overlap; jobs with interval EVERY_TICK run in order inside the scheduler tick. Every job is safe with other
 * schedulers running it on the same database. `now` comes from the injected Clock (tests pass their own).
 */
export interface PeriodicJob<R = unknown> {
  /** Unique: its timeout's name in the SchedulerRegistry and its name in logs (tick steps: in TICK_STEPS). */
  readonly name: string;
  /** EVERY_TICK, or the milliseconds from the end of one run to the start of the next. */
  readonly interval: typeof EVERY_TICK | number;
  /** Timer jobs: whether to run again at once after this result (a pass that found work: a backlog may be left). */
  again?(result: R): boolean;
  /**
   * Timer jobs: called once when the host starts the job, with `wake`, which runs the job at once (or again at once
   * after the pass in progress) instead of after its interval: for a job that hears of its work (a NOTIFY), the
   * interval being the fallback.
   */
  onWake?(wake: () => void): void;
  /** One pass. `signal` aborts when the process shuts down: a long pass stops between its batches. */
  run(now: Date, signal?: AbortSignal): Promise<R>;
}

/** Marks a provider as a PeriodicJob. */
export const Periodic = DiscoveryService.createDecorator<void>();

/** The PeriodicJob providers of the application, each instance once. */
export function periodicJobs(discovery: Pick<DiscoveryService, 'getProviders'>): PeriodicJob[] {
  const found = discovery.getProviders({ metadataKey: Periodic.KEY }).map((w) => w.instance as PeriodicJob | undefined);
  const jobs = [...new Set(found.filter((job): job is PeriodicJob => Boolean(job)))];
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two periodic jobs are named ${job.name}`);
    names.add(job.name);
  }
  return jobs;
}
