import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Field names that may hold a secret. keyup never hands a secret to the logger; this is the
 * second line of defence should a future change do so by accident.
 */
const SECRET_FIELDS = ['secretAccessKey', 'SecretAccessKey', 'aws_secret_access_key', 'sessionToken', 'SessionToken', 'aws_session_token', 'aws_security_token', 'credentials'];
export const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`)];

export interface CreateLoggerInit {
  /** Default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass an in-memory stream. */
  destination?: DestinationStream;
  /** Default ISO; `false` in tests to compare lines. */
  timestamp?: 'iso' | 'epoch' | false;
  name?: string;
}

export function createLogger({ level = 'info', destination, timestamp = 'iso', name = 'keyupd' }: CreateLoggerInit = {}): Logger {
  const options: LoggerOptions = {
    name,
    level,
    timestamp: timestamp === 'iso' ? pino.stdTimeFunctions.isoTime : timestamp === 'epoch',
    redact: { paths: REDACT_PATHS, censor: '[secret]' },
    base: { pid: process.pid },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/**
 * What may be logged of an underlying error: its name, code, HTTP status and message. Never the
 * whole object: an SDK error carries the raw response, and who knows what a future one carries.
 */
export function describeCause(error: unknown): Record<string, unknown> | undefined {
  if (typeof error !== 'object' || error === null) return error === undefined ? undefined : { value: String(error) };
  const { name, code, message, $metadata } = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return { name, code, status: $metadata?.httpStatusCode, message };
}
