import { ExitCode, KeyupError } from '../errors.js';

/**
 * The longest socket path, in bytes, that works everywhere keyup runs: `sun_path` holds 108 bytes
 * on Linux and 104 on macOS, the terminating NUL included.
 */
export const MAX_SOCKET_PATH_BYTES = 103;

/**
 * Refuses a socket path the kernel cannot hold. Node does not: on Linux it binds a silently
 * truncated path, so a daemon would listen where no client looks, and a client would report a
 * running daemon as not running.
 */
export function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new KeyupError(`The socket path ${path} is ${bytes} bytes long; a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES}.`, {
      hint: 'Choose a shorter path with --socket or KEYUP_SOCKET.',
      exitCode: ExitCode.usage,
      code: 'usage',
    });
  }
}
