import { ExitCode, KeyupError, type ErrorCode } from '../errors.js';

/**
 * Why installing or removing the service failed, as the error's `code`:
 * - `no-service-manager`: no user service manager answers (no systemd user bus, no launchd GUI
 *   session, another OS); SPEC: one sentence says so and what to do, exit 1.
 * - `service-failed`: the manager answered but refused (a systemctl or launchctl command failed),
 *   or keyup's own files for it (keyupd.js, the templates) are missing or cannot hold a path.
 */
export type ServiceErrorCode = Extract<ErrorCode, 'no-service-manager' | 'service-failed'>;

/** A {@link KeyupError} with exit code 1 and one of the {@link ServiceErrorCode}s. */
export function createServiceError(code: ServiceErrorCode, message: string, hint: string, cause?: unknown): KeyupError {
  return new KeyupError(message, { hint, exitCode: ExitCode.failed, code, ...(cause === undefined ? {} : { cause }) });
}
