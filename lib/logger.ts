import { pino, type Logger, type DestinationStream } from 'pino';
import { redact } from './redact.js';

export type { Logger };

/**
 * JSON logs (pino). Every object logged passes through `redact`, so secrets never reach
 * the output even when a caller logs a whole request or config object by mistake.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'evidence-hub' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (object) => redact(object) as Record<string, unknown> },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
