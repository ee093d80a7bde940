import { isDatabaseUnavailable } from '../common/database-unavailable.js';
import { errorMessage } from '../common/error-text.js';

/**
 * The one line a process that fails to start says. When its database cannot be reached (down, not yet up, a wrong
 * host or port in DATABASE_URL), the bare driver message ("connect ECONNREFUSED 127.0.0.1:5432") names neither the
 * database nor the setting; this line names both. `database` is the redacted URL (or the embedded database's place).
 */
export function startupErrorLine(err: unknown, database: string, fromUrl: boolean): string {
  const message = errorMessage(err);
  if (!isDatabaseUnavailable(err)) return message;
  return fromUrl
    ? `cannot reach the database at ${database} (DATABASE_URL): ${message}; start PostgreSQL there, or set DATABASE_URL to one that runs`
    : `cannot reach the ${database}: ${message}`;
}
