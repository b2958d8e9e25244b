/**
 * keyupd's side of the socket (SPEC "The socket"): newline-delimited JSON-RPC 2.0 over a Unix
 * socket, many clients at once, each request answered when its handler settles (so a `status`
 * is answered while a `rotate` on the same connection still streams its progress).
 *
 * Nothing a client sends or fails to read can stop or stall the daemon: lines are capped, bad
 * input is answered with an error and the connection carries on, a client that does not read is
 * dropped once its queue passes a cap, a connection may hold only so many requests at once, and
 * a handler's failure is turned into an error answer that never carries a stack.
 *
 * Batches (a JSON array of requests) are refused, explicitly: one -32600 error with id null.
 * keyupctl sends one request per connection, and a batch would only let one line start many
 * rotations at once.
 */
import * as nodeFs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { ExitCode, KeyupError } from '../errors.js';
import { ensureFolder } from '../fs/ensure-folder.js';
import { describeCause } from '../log.js';
import { DaemonError, DaemonNotRunningError, DaemonUnreachableError, request } from './client.js';
import { LineSplitter, LineWriter, type LineEvent } from './framing.js';
import { MAX_LINE_BYTES, RpcErrorCode, isMethod, isRecord, isRpcRequest, type Method, type RequestId, type RpcErrorObject } from './protocol.js';
import { checkSocketPath } from './socket-path.js';

/** What a handler gets besides its params. */
export interface RequestContext {
  /**
   * Sends a notification to this connection only (`rotate.progress`). Never throws and never
   * waits: after the connection is gone, or for params JSON cannot hold, it does nothing.
   */
  notify(method: string, params?: unknown): void;
  /**
   * Aborted when the connection closes (or the server does): the handler should stop listening
   * and stop notifying. It must not stop the work itself: a rotation goes on without its client.
   */
  readonly signal: AbortSignal;
}

/**
 * Answers one method. Throw {@link InvalidParamsError} for bad params (-32602), a KeyupError for a
 * failure the user should read (-32000, or -32001 when its exit code is 2); anything else is
 * logged and answered with a generic -32603.
 */
export type Handler = (params: unknown, ctx: RequestContext) => Promise<unknown>;

export type SocketHandlers = { readonly [M in Method]?: Handler };

/** The part of a pino logger the server uses. */
export interface SocketServerLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface SocketServerInit {
  /** The socket file: SPEC's `--socket`, `$KEYUP_SOCKET`, `$XDG_RUNTIME_DIR/keyup/keyupd.sock`, … */
  path: string;
  handlers: SocketHandlers;
  /** Default: logs nothing. */
  logger?: SocketServerLogger;
  /** What a client that does not read may leave queued before it is dropped. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Connections beyond this are closed at once. Default 64. */
  maxConnections?: number;
  /** Requests one connection may have running; past it, reading from it pauses. Default 16. */
  maxRequestsInFlight?: number;
  /** How long a socket already at `path` has to answer `version` before start-up gives up. Default 2 s. */
  probeTimeoutMs?: number;
  /** How long `close()` lets connections flush what they were sent before destroying them. Default 1 s. */
  closeGraceMs?: number;
}

export interface SocketServer {
  readonly path: string;
  /** Open connections, for status and tests. */
  readonly connectionCount: number;
  /**
   * Stops listening, aborts every request's signal, ends every connection, and removes the
   * socket file if it is still the one this server made (same device and inode). Idempotent.
   */
  close(): Promise<void>;
}

/** A handler's way to answer -32602: the params are not what the method takes. */
export class InvalidParamsError extends KeyupError {
  constructor(message: string, hint?: string) {
    super(message, { ...(hint === undefined ? {} : { hint }), exitCode: ExitCode.usage, code: 'usage' });
  }
}

/** Another process answers on the socket: keyupd is already running. Exit 2. */
export class AlreadyRunningError extends KeyupError {
  constructor(
    readonly socketPath: string,
    /** The other daemon's pid, from its `version`; null when what answers is not a keyupd that says. */
    readonly pid: number | null,
    cause?: unknown,
  ) {
    super(pid === null ? `Another process is listening on ${socketPath}.` : `keyupd is already running (pid ${pid}, socket ${socketPath}).`, {
      hint: pid === null ? 'Stop it, or give this keyupd another socket with --socket or KEYUP_SOCKET.' : `Stop it first (kill ${pid}, or keyupctl uninstall), or give this keyupd another socket with --socket or KEYUP_SOCKET.`,
      exitCode: ExitCode.usage,
      code: 'already-running',
      cause,
    });
  }
}

const DEFAULTS = {
  maxBufferedBytes: 1024 * 1024,
  maxConnections: 64,
  maxRequestsInFlight: 16,
  probeTimeoutMs: 2_000,
  closeGraceMs: 1_000,
};

const SILENT_LOGGER: SocketServerLogger = { debug() {}, warn() {}, error() {} };

/**
 * Makes the socket's folder, takes over a crashed daemon's socket, refuses a live one, and serves
 * `handlers` on `path` until `close()`. Rejects with {@link AlreadyRunningError} when a daemon
 * answers there, and with a KeyupError when the path is unusable (too long, not a socket, a
 * folder that is not ours).
 *
 * The folder rule: missing folders are made 0700. An existing folder is tightened to 0700 only
 * when it is keyup's own, that is named `keyup` (`$XDG_RUNTIME_DIR/keyup/`, or the state folder
 * `…/state/keyup/`) and owned by this user; one of another user is refused. Any other folder
 * (a `--socket` elsewhere) is the user's and left as it is: the socket's own 0600 guards it then,
 * and a warning says when others may enter the folder.
 */
export async function startSocketServer(init: SocketServerInit): Promise<SocketServer> {
  const options = { ...DEFAULTS, ...definedOnly(init) };
  const logger = init.logger ?? SILENT_LOGGER;
  const path = init.path;
  checkSocketPath(path);
  await prepareFolder(dirname(path), logger);

  const connections = new Set<Connection>();
  let ready = false;
  const early: Socket[] = [];
  const server = createServer((socket) => {
    // A connection may arrive between listen and the final checks; it waits for them.
    if (!ready) early.push(socket);
    else accept(socket);
  });
  server.maxConnections = options.maxConnections;
  server.on('drop', () => logger.warn({ maxConnections: options.maxConnections }, 'Too many socket clients at once; a new one was turned away.'));

  function accept(socket: Socket): void {
    const connection = serveConnection(socket, init.handlers, logger, options);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  }

  let identity: FileIdentity;
  try {
    identity = await bindPrivately(server, path, options.probeTimeoutMs);
  } catch (error) {
    for (const socket of early) socket.destroy();
    await closeServer(server);
    throw error;
  }
  server.on('error', (error) => logger.error({ cause: describeCause(error) }, 'The socket server failed.'));
  ready = true;
  for (const socket of early.splice(0)) accept(socket);
  logger.debug({ socket: path }, 'Listening on the socket.');

  let closing: Promise<void> | undefined;
  return {
    path,
    get connectionCount() {
      return connections.size;
    },
    close() {
      closing ??= (async () => {
        const closed = closeServer(server);
        const grace = setTimeout(() => {
          for (const connection of connections) connection.destroy();
        }, options.closeGraceMs);
        for (const connection of connections) connection.end();
        await closed;
        clearTimeout(grace);
        await removeIfOurs(path, identity);
      })();
      return closing;
    },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, inner]) => inner !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// The socket file

interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

async function prepareFolder(dir: string, logger: SocketServerLogger): Promise<void> {
  await ensureFolder(nodeFs, dir);
  const own = await nodeFs.promises.lstat(dir);
  const uid = process.geteuid?.();
  // A link named keyup is not keyup's folder: chmod would change what it points to.
  const keyupOwn = basename(dir) === 'keyup' && own.isDirectory();
  const stats = keyupOwn ? own : await nodeFs.promises.stat(dir);
  if (keyupOwn && uid !== undefined && stats.uid !== uid) {
    throw new KeyupError(`The socket's folder ${dir} belongs to another user.`, {
      hint: 'Remove it (it is only a place for the socket), or choose another socket with --socket or KEYUP_SOCKET.',
      exitCode: ExitCode.usage,
      code: 'state',
    });
  }
  if ((stats.mode & 0o077) === 0) return;
  if (keyupOwn) await nodeFs.promises.chmod(dir, 0o700);
  else logger.warn({ folder: dir }, 'Other users may enter the socket folder; only the socket file’s own mode 0600 keeps them out.');
}

/**
 * Listens on `path` so that the socket is 0600 from the moment anyone can reach it by that name,
 * and so that closing never removes a file that is not ours.
 *
 * bind() makes the socket file with 0777 less the umask, and connect() checks it only when a
 * client connects: a socket that is briefly 0775 until a chmod lets a client of the group connect
 * in that moment and stay connected after. So the socket is bound under a umask of 0177, at a
 * random name beside `path`, chmodded 0600 (in case the umask could not be set), checked, and only
 * then hard-linked to `path` (link never replaces anything, so a file that appeared at `path`
 * meanwhile is never removed) and its temporary name unlinked.
 *
 * The temporary name also matters on close: libuv unlinks the path it bound, by name, whatever is
 * there by then (a socket another daemon bound since, even a regular file). It unlinks a name
 * that is long gone instead; `path` is removed by {@link removeIfOurs}, which checks first.
 */
async function bindPrivately(server: Server, path: string, probeTimeoutMs: number): Promise<FileIdentity> {
  const temporary = await listenAtTemporaryName(server, path);
  try {
    await nodeFs.promises.chmod(temporary, 0o600);
    const identity = await identify(temporary);
    // Another daemon may take the path between the probe and the link: then probe again.
    for (let attempt = 0; ; attempt++) {
      await takeOverStale(path, probeTimeoutMs);
      try {
        await nodeFs.promises.link(temporary, path);
        return identity;
      } catch (error) {
        if (getCode(error) !== 'EEXIST' || attempt >= 2) throw describeBindError(path, error);
      }
    }
  } finally {
    await nodeFs.promises.unlink(temporary).catch(() => undefined);
  }
}

/**
 * Binds beside `path`, at a random name no longer than its own (so it fits wherever `path` fits:
 * `.` and up to 12 random letters in place of the file name), retrying if the name is taken.
 */
async function listenAtTemporaryName(server: Server, path: string): Promise<string> {
  const length = Math.min(12, Math.max(1, basename(path).length - 1));
  for (let attempt = 0; ; attempt++) {
    const temporary = join(dirname(path), `.${randomName(length)}`);
    checkSocketPath(temporary);
    try {
      await listen(server, temporary);
      return temporary;
    } catch (error) {
      if (getCode(error) !== 'EADDRINUSE' || attempt >= 4) throw describeBindError(path, error);
    }
  }
}

function randomName(length: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => letters[byte % letters.length]).join('');
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // For a Unix socket, Node binds synchronously inside listen(), so the umask covers the bind
    // and no other JavaScript runs under it. It cannot be set in a worker thread: chmod covers that.
    let previous: number | undefined;
    try {
      previous = process.umask(0o177);
    } catch {
      previous = undefined;
    }
    try {
      server.listen(path);
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

async function identify(path: string): Promise<FileIdentity> {
  const stats = await nodeFs.promises.lstat(path);
  if ((stats.mode & 0o777) !== 0o600) throw new KeyupError(`The socket ${path} could not be made private (mode ${(stats.mode & 0o777).toString(8)}).`, { code: 'state' });
  return { dev: stats.dev, ino: stats.ino };
}

/**
 * Makes `path` free, or says why it cannot be. Nothing there: fine. A socket nobody listens on
 * (ECONNREFUSED) is a crashed daemon's leftover: removed. A socket that answers is a live daemon:
 * {@link AlreadyRunningError} with its pid. Anything that is not a socket is never removed.
 */
async function takeOverStale(path: string, probeTimeoutMs: number): Promise<void> {
  const before = await lstatOrUndefined(path);
  if (before === undefined) return;
  if (!before.isSocket()) {
    throw new KeyupError(`${path} exists and is not a socket; keyupd will not remove it.`, {
      hint: 'Move it away, or choose another socket with --socket or KEYUP_SOCKET.',
      exitCode: ExitCode.usage,
      code: 'state',
    });
  }
  try {
    const answer = await request(path, 'version', undefined, { timeoutMs: probeTimeoutMs });
    throw new AlreadyRunningError(path, isRecord(answer) && typeof answer.pid === 'number' ? answer.pid : null);
  } catch (error) {
    if (error instanceof AlreadyRunningError) throw error;
    if (error instanceof DaemonNotRunningError && error.osCode === 'ENOENT') return;
    if (error instanceof DaemonNotRunningError && error.osCode === 'ECONNREFUSED') {
      // Remove only the leftover we probed, not something that took its place since.
      const now = await lstatOrUndefined(path);
      if (now !== undefined && now.isSocket() && now.dev === before.dev && now.ino === before.ino) await nodeFs.promises.unlink(path).catch(ignoreMissing);
      return;
    }
    if (error instanceof DaemonUnreachableError) {
      throw new KeyupError(`Cannot tell whether a keyupd listens on ${path} (${error.osCode ?? 'no answer'}).`, {
        hint: 'Check that the socket and its folder belong to you, or choose another socket with --socket or KEYUP_SOCKET.',
        exitCode: ExitCode.usage,
        code: 'state',
        cause: error,
      });
    }
    // It accepted the connection: something lives there, even if it answered badly, late or not
    // at all (a keyupd of another version, or one at its connection limit). Never take it over.
    throw new AlreadyRunningError(path, null, error instanceof DaemonError ? undefined : error);
  }
}

async function removeIfOurs(path: string, identity: FileIdentity): Promise<void> {
  const stats = await lstatOrUndefined(path);
  if (stats !== undefined && stats.dev === identity.dev && stats.ino === identity.ino) await nodeFs.promises.unlink(path).catch(ignoreMissing);
}

async function lstatOrUndefined(path: string): Promise<nodeFs.Stats | undefined> {
  try {
    return await nodeFs.promises.lstat(path);
  } catch (error) {
    if (getCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function ignoreMissing(error: unknown): void {
  if (getCode(error) !== 'ENOENT') throw error;
}

function getCode(error: unknown): string | undefined {
  return isRecord(error) && typeof error.code === 'string' ? error.code : undefined;
}

function describeBindError(path: string, error: unknown): KeyupError {
  if (error instanceof KeyupError) return error;
  const code = getCode(error);
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EADDRINUSE' ? 'something else took it' : error instanceof Error ? error.message : String(error);
  return new KeyupError(`Cannot listen on the socket ${path}: ${reason}.`, { hint: 'Check the socket folder and its permissions, or choose another socket with --socket or KEYUP_SOCKET.', code: 'state', cause: error });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

// ---------------------------------------------------------------------------------------------
// One connection

interface Connection {
  end(): void;
  destroy(): void;
}

type Options = typeof DEFAULTS;

function serveConnection(socket: Socket, handlers: SocketHandlers, logger: SocketServerLogger, options: Options): Connection {
  const closed = new AbortController();
  const splitter = new LineSplitter({ maxLineBytes: MAX_LINE_BYTES });
  const writer = new LineWriter(socket, {
    maxBufferedBytes: options.maxBufferedBytes,
    onOverflow: (buffered) => {
      logger.warn({ buffered }, 'A socket client stopped reading what keyupd sent; it was disconnected.');
      socket.destroy();
    },
  });
  /** Lines read while `maxRequestsInFlight` requests run; reading is paused until they drain. */
  const waiting: LineEvent[] = [];
  let inFlight = 0;

  function send(message: object): void {
    try {
      writer.write(message);
    } catch (error) {
      // Only a value JSON cannot hold gets here; the caller answers in its place.
      logger.error({ cause: describeCause(error) }, 'A socket message could not be written as JSON.');
      throw error;
    }
  }

  function answer(id: RequestId | null, error: RpcErrorObject): void {
    send({ jsonrpc: '2.0', id, error });
  }

  const ctx: RequestContext = {
    signal: closed.signal,
    notify(method, params) {
      if (closed.signal.aborted) return;
      try {
        send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
      } catch {
        // Logged by send; a notification is progress, and progress never breaks the work.
      }
    },
  };

  function take(event: LineEvent): void {
    if (event.kind === 'too-long') return answer(null, { code: RpcErrorCode.invalidRequest, message: `The request is longer than ${MAX_LINE_BYTES} bytes.` });
    if (event.kind === 'not-utf8') return answer(null, { code: RpcErrorCode.parseError, message: 'The request is not UTF-8 text.' });
    if (event.text.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(event.text);
    } catch {
      return answer(null, { code: RpcErrorCode.parseError, message: 'The request is not JSON.' });
    }
    if (Array.isArray(message)) return answer(null, { code: RpcErrorCode.invalidRequest, message: 'keyupd does not take batches: send one request per line.' });
    if (!isRpcRequest(message)) {
      return answer(isRecord(message) ? readableId(message.id) : null, { code: RpcErrorCode.invalidRequest, message: 'The message is not a JSON-RPC 2.0 request.' });
    }
    // A request without an id is a notification: it is run, and never answered, not even an error.
    const id = 'id' in message ? (message.id ?? null) : undefined;
    const handler = isMethod(message.method) ? handlers[message.method] : undefined;
    if (handler === undefined) {
      if (id !== undefined) answer(id, { code: RpcErrorCode.methodNotFound, message: `keyupd has no method ${JSON.stringify(message.method.slice(0, 64))}.` });
      return;
    }
    run(message.method, handler, message.params, id);
  }

  function run(method: string, handler: Handler, params: unknown, id: RequestId | null | undefined): void {
    inFlight++;
    Promise.resolve()
      .then(() => handler(params, ctx))
      .then(
        (result) => {
          if (id === undefined) return;
          try {
            send({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
          } catch {
            answer(id, INTERNAL_ERROR);
          }
        },
        (error: unknown) => {
          const { rpcError, unexpected } = toRpcError(error);
          if (unexpected) logger.error({ method, cause: describeCause(error) }, 'A socket request failed unexpectedly.');
          else logger.debug({ method, code: rpcError.code, message: rpcError.message }, 'A socket request failed.');
          if (id !== undefined) answer(id, rpcError);
        },
      )
      .catch((error: unknown) => logger.error({ method, cause: describeCause(error) }, 'A socket answer could not be sent.'))
      .finally(() => {
        inFlight--;
        drain();
      });
  }

  function drain(): void {
    while (waiting.length > 0 && inFlight < options.maxRequestsInFlight && !socket.destroyed) take(waiting.shift()!);
    if (waiting.length === 0 && socket.isPaused() && !socket.destroyed) socket.resume();
  }

  function receive(events: readonly LineEvent[]): void {
    for (const event of events) {
      // Order is kept: once anything waits, everything after it waits too.
      if (waiting.length > 0 || inFlight >= options.maxRequestsInFlight) {
        waiting.push(event);
        socket.pause();
      } else {
        take(event);
      }
    }
  }

  socket.on('data', (chunk: Buffer) => receive(splitter.push(chunk)));
  // On a Unix socket a client that closed and one that only shut down its writing side look
  // alike (EOF); both are taken as gone, so that a handler hears of it at once, not at its next
  // write. Node then ends our side too. A last line without a newline is dropped with it: its
  // answer could not be read.
  socket.on('end', () => closed.abort());
  socket.on('error', (error) => logger.debug({ cause: describeCause(error) }, 'A socket client connection failed.'));
  socket.on('close', () => closed.abort());

  return {
    end() {
      closed.abort();
      socket.end();
    },
    destroy() {
      socket.destroy();
    },
  };
}

/** An id worth echoing in an invalid-request error; anything else is answered with null. */
function readableId(id: unknown): RequestId | null {
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

const INTERNAL_ERROR: RpcErrorObject = { code: RpcErrorCode.internalError, message: 'keyupd failed unexpectedly; its log says more.' };

/**
 * A handler's failure as a JSON-RPC error. KeyupErrors keep their sentence, code and hint (they
 * never hold a secret); anything else becomes a generic message, since its message, stack or
 * properties may hold anything, and is logged instead.
 */
export function toRpcError(error: unknown): { rpcError: RpcErrorObject; unexpected: boolean } {
  if (!(error instanceof KeyupError)) return { rpcError: INTERNAL_ERROR, unexpected: true };
  const code = error instanceof InvalidParamsError ? RpcErrorCode.invalidParams : error.exitCode === ExitCode.usage ? RpcErrorCode.usage : RpcErrorCode.failed;
  return { rpcError: { code, message: error.message, data: { code: error.code, hint: error.hint ?? null } }, unexpected: false };
}
