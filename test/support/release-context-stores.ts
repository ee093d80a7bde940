import { afterAll } from '@jest/globals';
import { requestContext } from '../../src/access/request-context.js';
import { disableConnectionBudgets } from '../../src/database/connection-budget.js';

/**
 * Jest runs the integration files one after another in one process (2 cores: one worker) and loads the service's
 * modules afresh for each file. Each load creates the AsyncLocalStorage instances of the request context and the
 * connection budget, and one that has run stays hooked into every promise the process creates until it is disabled:
 * without this, every file paid for all the files before it (the suite slowed down file by file; a CPU profile of a
 * late file showed async_hooks' init and _propagate as most of its time). After a file, its apps are closed.
 */
afterAll(() => {
  requestContext.disable();
  disableConnectionBudgets();
});
