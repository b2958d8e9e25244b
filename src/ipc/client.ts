/**
 * keyupctl's side of the socket: one request per connection, its notifications, its result.
 *
 * keyupctl's start-up budget is tight, so this loads node:net and keyup's own small, import-free
 * modules (protocol, framing, socket-path, errors) and nothing else: no logger, no AWS SDK, no
 * yargs. test/ipc/client-imports.test.ts holds it to that.
 */
import { createConnection } from 'node:net';
import { ExitCode, KeyupError, type ErrorCode } from '../errors.js';
import { LineSplitter, encodeLine, type LineEvent } from './framing.js';
import { RpcErrorCode, isRecord, isRpcNotification, isRpcResponse, type Method, type RpcErrorObject } from './protocol.js';
import { checkSocketPath } from './socket-path.js';

/** How long keyupctl waits in silence, by default: connecting, then between two messages. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The longest reply line keyupctl reads. Larger than what the daemon accepts from a client
 * (MAX_LINE_BYTES): a `status` or `keys` of many profiles may be long, and the cap is only there
 * so that a peer that is not keyupd cannot make keyupctl buffer without end.
 */
export const MAX_REPLY_BYTES = 16 * 1024 * 1024;

export interface RequestOptions {
  /**
   * The longest silence allowed, in ms: until connected and answered, and between two messages
   * (each `rotate.progress` restarts it). So a long `rotate` that keeps reporting is never cut
   * short, and a daemon that stops talking is. Default {@link DEFAULT_TIMEOUT_MS}.
   */
  timeoutMs?: number;
  /**
   * Called with each notification the daemon sends before the result (`rotate.progress`). If it
   * throws, the request ends with that error.
   */
  onNotification?: (method: string, params: unknown) => void;
  /** Default {@link MAX_REPLY_BYTES}. */
  maxReplyBytes?: number;
}

/** A reply that is malformed, cut off or late. */
const REPLY_ERROR_CODE: ErrorCode = 'daemon-reply';

/** keyupd cannot be reached at the socket. Exit 3. */
export class DaemonUnreachableError extends KeyupError {
  constructor(
    message: string,
    readonly socketPath: string,
    readonly osCode: string | undefined,
    hint: string,
    cause: unknown,
  ) {
    super(message, { hint, exitCode: ExitCode.unreachable, code: 'daemon-unreachable', cause });
  }
}

/** Nothing listens at the socket (ENOENT, ECONNREFUSED, ENOTSOCK, ENOTDIR): keyupd is not running. Exit 3. */
export class DaemonNotRunningError extends DaemonUnreachableError {
  constructor(socketPath: string, osCode: string | undefined, cause: unknown) {
    super(`keyupd is not running (nothing listens at ${socketPath}).`, socketPath, osCode, 'Start it with `keyupctl install`, or run `keyupd` in a terminal.', cause);
  }
}

/**
 * keyupd answered with a JSON-RPC error: its code, message and data are kept as sent. Bad usage
 * (-32001, -32602) exits 2, anything else 1; keyup's failures carry `data.code` and `data.hint`.
 */
export class DaemonError extends KeyupError {
  readonly rpcCode: number;
  readonly data: unknown;

  constructor(error: RpcErrorObject) {
    const data = isRecord(error.data) ? error.data : undefined;
    const hint = typeof data?.hint === 'string' ? data.hint : error.code === RpcErrorCode.methodNotFound ? 'keyupctl and keyupd may be different versions: restart keyupd.' : undefined;
    const usage = error.code === RpcErrorCode.usage || error.code === RpcErrorCode.invalidParams;
    super(error.message, {
      ...(hint === undefined ? {} : { hint }),
      exitCode: usage ? ExitCode.usage : ExitCode.failed,
      // The daemon sends only ErrorCodes; one this keyupctl does not know is still its name.
      code: typeof data?.code === 'string' ? (data.code as ErrorCode) : usage ? 'usage' : 'unexpected',
    });
    this.rpcCode = error.code;
    this.data = error.data;
  }
}

/** What came back is not a JSON-RPC answer to this request. Exit 1. */
export class MalformedReplyError extends KeyupError {
  constructor(problem: string) {
    super(`keyupd sent a reply keyupctl cannot read: ${problem}.`, {
      hint: 'Make sure keyupctl and keyupd are the same version, and restart keyupd.',
      code: REPLY_ERROR_CODE,
    });
  }
}

/** The connection closed before the result: keyupd stopped, or dropped this client. Exit 1. */
export class ReplyCutOffError extends KeyupError {
  constructor(method: Method, cause?: unknown) {
    super(`keyupd closed the connection before answering ${method}.`, {
      hint: method === 'rotate' ? 'Run `keyupctl status` to see where the rotation got to; keyupd finishes or undoes it.' : 'Run `keyupctl status` to check keyupd is running, and see its log.',
      code: REPLY_ERROR_CODE,
      cause,
    });
  }
}

/** keyupd said nothing for `timeoutMs`. Exit 1. */
export class ReplyTimeoutError extends KeyupError {
  constructor(
    method: Method,
    readonly timeoutMs: number,
  ) {
    super(`keyupd did not answer ${method} within ${formatDuration(timeoutMs)}.`, {
      hint: method === 'rotate' ? 'The rotation goes on in keyupd: run `keyupctl status` to follow it.' : 'keyupd may be busy or stuck: try again, and see its log.',
      code: REPLY_ERROR_CODE,
    });
  }
}

const NOT_RUNNING = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTSOCK', 'ENOTDIR']);
const REQUEST_ID = 1;

/**
 * Sends one request to keyupd at `socketPath` and resolves with its result, after handing each
 * notification to `onNotification`. Rejects with one of the errors above (each a KeyupError
 * with an exit code and a hint), or with what `onNotification` threw.
 */
export function request(socketPath: string, method: Method, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, onNotification, maxReplyBytes = MAX_REPLY_BYTES } = options;
  return new Promise((resolve, reject) => {
    checkSocketPath(socketPath);
    const splitter = new LineSplitter({ maxLineBytes: maxReplyBytes });
    let connected = false;
    let settled = false;
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => settle(new ReplyTimeoutError(method, timeoutMs)), timeoutMs);

    function settle(error: unknown, result?: unknown): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(result);
      else reject(error);
    }

    /** `atEnd`: the last line, without its newline; if it does not parse it was cut, not malformed. */
    function take(event: LineEvent, atEnd = false): void {
      if (event.kind === 'too-long') return settle(new MalformedReplyError(`a line longer than ${maxReplyBytes} bytes`));
      if (event.kind === 'not-utf8') return settle(new MalformedReplyError('a line that is not UTF-8'));
      if (event.text.trim() === '') return;
      timer.refresh();
      let message: unknown;
      try {
        message = JSON.parse(event.text);
      } catch {
        return settle(atEnd ? new ReplyCutOffError(method) : new MalformedReplyError('a line that is not JSON'));
      }
      if (isRpcNotification(message)) {
        try {
          onNotification?.(message.method, message.params);
        } catch (error) {
          settle(error);
        }
        return;
      }
      if (!isRpcResponse(message)) return settle(new MalformedReplyError('a message that is neither a response nor a notification'));
      if ('error' in message) {
        // An error with id null answers a request the daemon could not read at all.
        if (message.id !== REQUEST_ID && message.id !== null) return settle(new MalformedReplyError('an answer to another request'));
        if (typeof message.error.message !== 'string') return settle(new MalformedReplyError('an error without a message'));
        return settle(new DaemonError(message.error));
      }
      if (message.id !== REQUEST_ID) return settle(new MalformedReplyError('an answer to another request'));
      settle(undefined, message.result);
    }

    socket.on('connect', () => {
      connected = true;
      timer.refresh();
      socket.write(encodeLine({ jsonrpc: '2.0', id: REQUEST_ID, method, ...(params === undefined ? {} : { params }) }));
    });
    socket.on('data', (chunk: Buffer) => {
      for (const event of splitter.push(chunk)) {
        take(event);
        if (settled) return;
      }
    });
    socket.on('end', () => {
      // A final line without its newline is still a whole message if it parses.
      for (const event of splitter.end()) {
        take(event, true);
        if (settled) return;
      }
      settle(new ReplyCutOffError(method));
    });
    socket.on('close', () => settle(new ReplyCutOffError(method)));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (connected) return settle(new ReplyCutOffError(method, error));
      settle(describeConnectError(socketPath, error));
    });
  });
}

function describeConnectError(socketPath: string, error: NodeJS.ErrnoException): DaemonUnreachableError {
  const osCode = error.code;
  if (osCode !== undefined && NOT_RUNNING.has(osCode)) return new DaemonNotRunningError(socketPath, osCode, error);
  const reason = osCode === 'EACCES' || osCode === 'EPERM' ? 'permission denied' : error.message;
  return new DaemonUnreachableError(`Cannot connect to keyupd at ${socketPath}: ${reason}.`, socketPath, osCode, 'Check that the socket belongs to you, or choose another with --socket or KEYUP_SOCKET.', error);
}

function formatDuration(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
