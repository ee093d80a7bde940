/**
 * Channel that wakes waiting lease requests: the payload is the queue that received work, or SLOT_FREED when a
 * pool or maxActiveTasks slot opened for work that was already queued (on any queue).
 */
export const QUEUED_CHANNEL = 'weft_task_queued';
/** Not a valid queue name (ids exclude '*'), so it cannot clash with one. */
export const SLOT_FREED = '*';
