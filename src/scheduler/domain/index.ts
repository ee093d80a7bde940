export { manualInterval, type RunInterval } from './data-interval.js';
export { dueIntervals, nextDueInterval, registeredNextDagrun, type DueOptions, type NextDagrun } from './due-intervals.js';
export { nextIntervals } from './next-intervals.js';
export {
  ONCE,
  parseSchedule,
  SCHEDULE_PRESETS,
  validateSchedule,
  validateTimezone,
  type CronSchedule,
  type DstPolicy,
  type Schedule,
} from './schedule.js';
export type { ScheduleWindow } from './scheduled-intervals.js';
