import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { requestContext } from '../access/request-context.js';

/**
 * Structured JSON logs (pino); pretty output when attached to a terminal. Every line written while serving a
 * request carries its `requestId` (the X-Request-Id the caller sent, or a fresh UUID, echoed in the answer).
 */
export function createLogger(level: string, pretty: boolean, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'weft' },
    redact: { paths: ['req.headers.authorization', '*.password', '*.apiKey'], censor: '[redacted]' },
    mixin: () => {
      const requestId = requestContext.getStore()?.requestId;
      return requestId ? { requestId } : {};
    },
  };
  if (destination) return pino(options, destination);
  return pino({ ...options, ...(pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}) });
}

/**
 * Nest's start-up chatter (one line per module and per route, ~90 lines): debug level, so that the start-up output
 * is Weft's own few lines and its banner. Their warnings and errors keep their level.
 */
const FRAMEWORK_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'GraphQLModule']);

/**
 * Routes Nest's own log calls into pino with the Nest context as a field. A message may be an object
 * `{ msg, ...fields }` (e.g. `attemptFields(ti)` from log-fields.ts): its fields become fields of the line.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.write(context && FRAMEWORK_CONTEXTS.has(context) ? 'debug' : 'info', message, { context });
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.write('error', message, { context, trace });
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, { context });
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, { context });
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, { context });
  }

  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, base: Record<string, unknown>): void {
    if (message && typeof message === 'object' && !(message instanceof Error)) {
      const { msg, ...fields } = message as Record<string, unknown>;
      this.logger[level]({ ...base, ...fields }, String(msg ?? ''));
    } else {
      this.logger[level](base, String(message));
    }
  }
}
