import { createSocket } from 'node:dgram';
import { constants } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection, isIPv6, type Socket } from 'node:net';
import { hostname as getHostname } from 'node:os';
import { dirname } from 'node:path';
import type { DestinationStream } from 'pino';
import { formatSyslogTarget, type Settings, type SyslogTarget } from './config/index.js';
import { KeyupError } from './errors.js';
import { ensureFolder } from './fs/ensure-folder.js';
import { getErrorCode, type FileSystem } from './fs/fs.js';

export interface LogDestination {
  readonly stream: DestinationStream;
  /** Syslog lines take pino's epoch time; people reading a file or a terminal prefer ISO. */
  readonly timestamp: 'iso' | 'epoch';
  /**
   * Delivers what is still queued, then lets go of files and sockets. Settles within
   * `closeTimeoutMs` whatever the far end does, and never rejects.
   */
  close(): Promise<void>;
}

/** The synchronous calls the log file needs besides {@link FileSystem}; `node:fs` has them all. */
export interface LogFileSystem extends FileSystem {
  openSync(path: string, flags: number, mode: number): number;
  fstatSync(fd: number): { isFile(): boolean; readonly mode: number };
  fchmodSync(fd: number, mode: number): void;
  writeSync(fd: number, data: Uint8Array): number;
  closeSync(fd: number): void;
}

/** Where `log = stdout` lines go: `process.stdout`, or `process.stderr` when stdout carries a summary. */
export interface ConsoleStream {
  write(text: string): boolean;
  readonly isTTY?: boolean;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

export interface OpenLogDestinationInit {
  fs: LogFileSystem;
  consoleStream: ConsoleStream;
  /**
   * Told one plain sentence when a destination fails (once, until it works again), saying which
   * and how to fix it. Callers print it on stderr as `keyupd: …`. Logging never changes a run's
   * outcome, so this is all that a failing destination does.
   */
  warn: (sentence: string) => void;
  /** `plain` lines for people or JSON lines for programs, for `log = stdout`. Default: plain on a terminal. */
  format?: 'plain' | 'json';
  /** The HOSTNAME of syslog lines. Default: the machine's name. */
  hostname?: string;
  /** How long `close()` may wait for a syslog server. Default 2 s. */
  closeTimeoutMs?: number;
  /** The first and the longest wait before a TCP or Unix syslog connection is tried again. Default 1 s and 60 s. */
  reconnectDelayMs?: { first: number; max: number };
}

/**
 * Opens where the log goes (SPEC `log`, `log_file`, `syslog`). It never throws and never stalls a
 * rotation: a destination that fails is one warning, and its lines are dropped (issue 7, hole 7).
 */
export async function openLogDestination(settings: Pick<Settings, 'log' | 'logFile' | 'syslog'>, init: OpenLogDestinationInit): Promise<LogDestination> {
  const warn = (sentence: string) => {
    try {
      init.warn(sentence);
    } catch {
      // A warning that cannot be shown (stderr closed) must not become the failure.
    }
  };
  try {
    switch (settings.log) {
      case 'stdout':
        return openConsole(init.consoleStream, init.format ?? (init.consoleStream.isTTY === true ? 'plain' : 'json'), warn);
      case 'file':
        return await openFile(init.fs, settings.logFile, warn);
      case 'syslog':
        return openSyslog(settings.syslog, { ...init, warn });
    }
  } catch (error) {
    // Each opener reports what it foresaw; this is for what nobody did (a package gone missing).
    warn(`cannot log to ${settings.log}: ${describeError(error)}; set log = file in the keyup config meanwhile, and report this.`);
    return discard;
  }
}

type Warn = (sentence: string) => void;

/** Warns when a destination starts failing, and not again until it has worked in between. */
function createTrouble(what: string, fix: string, warn: Warn) {
  let failing = false;
  return {
    fail(reason: string): void {
      if (failing) return;
      failing = true;
      warn(`cannot log to ${what}: ${reason}; ${fix}.`);
    },
    recover(): void {
      failing = false;
    },
  };
}

/** Calls `write` for each line, and never lets it throw into the code that logs. */
function guard(write: (line: string) => void): DestinationStream {
  return {
    write(line) {
      try {
        write(line);
      } catch {
        // Each destination reports its own failures; a rotation must not fail for a log line.
      }
    },
  };
}

const discard: LogDestination = { stream: guard(() => {}), timestamp: 'iso', close: async () => {} };

function openConsole(stream: ConsoleStream, format: 'plain' | 'json', warn: Warn): LogDestination {
  const trouble = createTrouble('the console', 'log to a file instead (log = file)', warn);
  // EPIPE when the reader went away arrives as an event; unheard, it would kill the process.
  const onError = (error: Error) => trouble.fail(describeError(error));
  stream.on('error', onError);
  return {
    stream: guard((line) => stream.write(format === 'plain' ? formatPlainLine(line) : line)),
    timestamp: 'iso',
    close: async () => {
      stream.off('error', onError);
    },
  };
}

async function openFile(fs: LogFileSystem, path: string, warn: Warn): Promise<LogDestination> {
  const trouble = createTrouble(path, 'fix that or choose another log_file in the keyup config', warn);
  const fd = await openLogFile(fs, path).catch((error: unknown) => {
    trouble.fail(error instanceof KeyupError ? asClause(error.message) : describeError(error));
    return undefined;
  });
  if (fd === undefined) return discard;
  let open = true;
  return {
    stream: guard((line) => {
      if (!open) return;
      try {
        writeAll(fs, fd, line);
        trouble.recover();
      } catch (error) {
        // ENOSPC and the like: tell once, try again with the next line, the disk may have room by then.
        trouble.fail(describeError(error));
      }
    }),
    timestamp: 'iso',
    close: async () => {
      if (!open) return;
      open = false;
      try {
        fs.closeSync(fd);
      } catch {
        // Nothing is buffered: each line was written as it came.
      }
    },
  };
}

/**
 * The log file's descriptor, opened for appending, 0600 whatever it was before (SPEC: every file
 * keyup writes is 0600; issue 7, hole 14). Only the file changes: its folder is made 0700 when
 * missing and left alone when not (hole 5). A folder, a FIFO or a device is refused: a FIFO
 * nobody reads would block the run forever, and a chmod of /dev/null would break the machine.
 */
async function openLogFile(fs: LogFileSystem, path: string): Promise<number> {
  await ensureFolder(fs, dirname(path));
  const existing = await fs.promises.stat(path).catch((error: unknown) => {
    if (getErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  });
  if (existing !== undefined && !existing.isFile()) throw notRegular();
  let fd: number;
  try {
    // O_NONBLOCK: should a FIFO take the file's place after the check, open fails (ENXIO) instead of waiting for a reader.
    fd = fs.openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o600);
  } catch (error) {
    throw ['EISDIR', 'ENXIO'].includes(getErrorCode(error) ?? '') ? notRegular() : error;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw notRegular();
    if ((stats.mode & 0o7777) !== 0o600) fs.fchmodSync(fd, 0o600);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** `Cannot make the folder /x: permission denied.` → `cannot make the folder /x: permission denied`, to sit inside a sentence. */
function asClause(sentence: string): string {
  return sentence.charAt(0).toLowerCase() + sentence.slice(1).replace(/\.$/, '');
}

const notRegular = () => new KeyupError('it is not a regular file (a folder, a FIFO or a device)');

function writeAll(fs: LogFileSystem, fd: number, line: string): void {
  let rest = Buffer.from(line, 'utf8');
  while (rest.length > 0) rest = rest.subarray(fs.writeSync(fd, rest));
}

// ---------------------------------------------------------------------------------------------
// syslog

/** Bytes of lines kept while a TCP or Unix syslog server is away; the oldest go first beyond it. */
const MAX_QUEUED_BYTES = 1 << 20;

/**
 * Syslog lines are formatted in this process by pino-syslog's RFC 5424 formatter and sent with
 * `node:dgram` or `node:net`, not in pino.transport's worker thread through pino-socket: there a
 * failed connection became an uncaught error and a stack trace in the worker, and `close()` waited
 * for a 'close' that never came, so every run exited 13 (issue 7, hole 7). Here each failure is
 * an event we hold, and every wait has a deadline.
 */
function openSyslog(target: SyslogTarget, init: OpenLogDestinationInit): LogDestination {
  const trouble = createTrouble(`syslog at ${formatSyslogTarget(target)}`, 'check that a syslog server listens there, or change syslog in the keyup config', init.warn);
  const closeTimeoutMs = init.closeTimeoutMs ?? 2_000;
  // TCP and stream sockets carry one message per line (RFC 6587 non-transparent framing).
  const format = createSyslogFormatter(sanitizeHostname(init.hostname ?? getHostname()), target.transport !== 'udp');
  const sender =
    target.transport === 'udp'
      ? createUdpSender(target, trouble, closeTimeoutMs)
      : createStreamSender(target.transport === 'unix' ? { path: target.path } : { host: target.host, port: target.port }, trouble, closeTimeoutMs, init.reconnectDelayMs ?? { first: 1_000, max: 60_000 });
  return {
    stream: guard((line) => sender.send(format(line))),
    timestamp: 'epoch',
    close: () => sender.close().catch(() => undefined),
  };
}

interface Sender {
  send(message: string): void;
  close(): Promise<void>;
}

type Trouble = ReturnType<typeof createTrouble>;

type SyslogRecord = Record<string, unknown>;
interface PinoSyslog {
  buildOptions(options: Record<string, unknown>): Record<string, unknown>;
  messageBuilderFactory(options: Record<string, unknown>): (record: SyslogRecord) => string;
}

/** pino's JSON line → one RFC 5424 line. pino-syslog is loaded only by those who log to syslog. */
function createSyslogFormatter(hostname: string, newline: boolean): (line: string) => string {
  const require = createRequire(import.meta.url);
  const { buildOptions } = require('pino-syslog/lib/utils.js') as Pick<PinoSyslog, 'buildOptions'>;
  const { messageBuilderFactory } = require('pino-syslog/lib/rfc5424.js') as Pick<PinoSyslog, 'messageBuilderFactory'>;
  const build = messageBuilderFactory(buildOptions({ modern: true, appname: 'keyupd', newline }));
  return (line) => {
    const record = JSON.parse(line) as SyslogRecord;
    // keyup's logger sets no hostname (pino's `base` is only the pid), and pino-syslog wrote `undefined`.
    if (typeof record.hostname !== 'string') record.hostname = hostname;
    // pino-syslog wants epoch milliseconds; a logger set to ISO time must not make lines without one.
    if (typeof record.time === 'string') record.time = Date.parse(record.time);
    else if (typeof record.time !== 'number') record.time = Date.now();
    return build(record);
  };
}

/** RFC 5424's HOSTNAME: 1 to 255 printable US-ASCII characters, or `-`. */
function sanitizeHostname(name: string): string {
  return name.replace(/[^\x21-\x7e]/g, '').slice(0, 255) || '-';
}

function createUdpSender(target: { host: string; port: number }, trouble: Trouble, closeTimeoutMs: number): Sender {
  const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
  // Never what keeps a process alive: close() is.
  socket.unref();
  socket.on('error', (error) => trouble.fail(describeError(error)));
  let inFlight = 0;
  let drained: (() => void) | undefined;
  return {
    send(message) {
      inFlight += 1;
      socket.send(message, target.port, target.host, (error) => {
        inFlight -= 1;
        if (error === null) trouble.recover();
        else trouble.fail(describeError(error));
        if (inFlight === 0) drained?.();
      });
    },
    async close() {
      if (inFlight > 0) await settleWithin(new Promise<void>((resolve) => (drained = resolve)), closeTimeoutMs);
      socket.close();
    },
  };
}

type StreamAddress = { path: string } | { host: string; port: number };

/**
 * A TCP or Unix stream connection that outlives its server: while the server is away lines wait
 * in a bounded queue and the connection is tried again with a growing delay, so a daemon that
 * logs for months survives a syslog restart without blocking, dying or growing.
 */
function createStreamSender(address: StreamAddress, trouble: Trouble, closeTimeoutMs: number, delays: { first: number; max: number }): Sender {
  let socket: Socket | undefined;
  let connected = false;
  let closing = false;
  let closed: (() => void) | undefined;
  let lastError: unknown;
  let queue: string[] = [];
  let queuedBytes = 0;
  let delay = delays.first;
  let retry: NodeJS.Timeout | undefined;

  const writeOut = (current: Socket, message: string) => {
    // A server that stops reading fills the socket; past a bound, drop lines rather than memory.
    if (current.writableLength > MAX_QUEUED_BYTES) trouble.fail('the server is not reading what it is sent');
    else current.write(message);
  };

  const connect = () => {
    retry = undefined;
    lastError = undefined;
    const current = createConnection(address);
    socket = current;
    current.unref();
    current.on('connect', () => {
      connected = true;
      delay = delays.first;
      trouble.recover();
      // A half-open connection to a server that vanished is found by keep-alive, not by waiting.
      current.setKeepAlive(true, 60_000);
      for (const message of queue) writeOut(current, message);
      queue = [];
      queuedBytes = 0;
      if (closing) current.end();
    });
    current.on('drain', () => trouble.recover());
    current.on('error', (error) => {
      lastError = error;
      connected = false;
    });
    // A syslog server says nothing; reading lets its hang-up ('end') be seen at once.
    current.resume();
    current.on('close', () => {
      connected = false;
      socket = undefined;
      if (lastError !== undefined || !closing) trouble.fail(lastError === undefined ? 'the server closed the connection' : describeError(lastError));
      if (closing) {
        closed?.();
        return;
      }
      retry = setTimeout(connect, delay);
      retry.unref();
      delay = Math.min(delay * 2, delays.max);
    });
  };

  connect();
  return {
    send(message) {
      if (closing) return;
      if (connected && socket !== undefined) {
        writeOut(socket, message);
        return;
      }
      queue.push(message);
      queuedBytes += Buffer.byteLength(message);
      if (queuedBytes <= MAX_QUEUED_BYTES) return;
      trouble.fail('more lines came than can wait for the server, the oldest were dropped');
      while (queuedBytes > MAX_QUEUED_BYTES && queue.length > 0) queuedBytes -= Buffer.byteLength(queue.shift() ?? '');
    },
    async close() {
      closing = true;
      clearTimeout(retry);
      const current = socket;
      if (current === undefined) return;
      const done = new Promise<void>((resolve) => (closed = resolve));
      if (connected) current.end();
      // Still connecting, the 'connect' handler sends the queue and ends.
      if (!(await settleWithin(done, closeTimeoutMs))) {
        if (current.writableLength > 0 || queue.length > 0) trouble.fail(`the server did not take the last log lines within ${closeTimeoutMs / 1000} s`);
        current.destroy();
      }
    },
  };
}

/**
 * Whether `promise` settled within `ms`. The timer deliberately keeps the process alive meanwhile:
 * lines in flight get their chance before a `--once` run exits, and never more than `ms`.
 */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

const ERROR_WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing accepts connections there',
  ECONNRESET: 'the server dropped the connection',
  EPIPE: 'the reader went away',
  ETIMEDOUT: 'the server does not answer',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached',
  ENOTFOUND: 'the host name is unknown',
  EAI_AGAIN: 'the host name cannot be looked up now',
  ENOENT: 'it does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  // /dev/log is a datagram socket on most systems; Node writes only to stream sockets.
  EPROTOTYPE: 'it is a datagram socket, which keyupd cannot write to (use udp://127.0.0.1:514)',
  EMSGSIZE: 'a log line is too long for one datagram',
  ENOSPC: 'no space is left on the disk',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EIO: 'the disk reported an input/output error',
};

/** A failure in a few words and its code, never a stack. */
function describeError(error: unknown): string {
  const code = getErrorCode(error);
  if (code !== undefined) return ERROR_WORDS[code] === undefined ? code : `${ERROR_WORDS[code]} (${code})`;
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// plain lines for people

const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown in the line's head or not at all. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v']);

/**
 * pino's JSON line → `2026-11-24T07:00:00Z INFO  message  key=value …` for a person at a terminal.
 * It works on what pino wrote, so redacted fields stay redacted. Control characters are escaped,
 * so no message (an AWS error's text, say) can split a line or steer the terminal.
 */
export function formatPlainLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return `${escapeControls(line.trimEnd())}\n`;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return `${escapeControls(line.trimEnd())}\n`;
  const fields = record as Record<string, unknown>;
  const head = [formatTime(fields.time), (LEVEL_NAMES[Number(fields.level)] ?? String(fields.level ?? '')).padEnd(5), typeof fields.msg === 'string' ? escapeControls(fields.msg) : ''];
  const rest = flatten(Object.entries(fields).filter(([key]) => !HEAD_FIELDS.has(key))).map(([key, value]) => `${escapeControls(key)}=${formatValue(value)}`);
  const text = head.filter((part) => part !== undefined).join(' ');
  return `${rest.length === 0 ? text : `${text}  ${rest.join(' ')}`}\n`;
}

/** ISO time to the second; pino gives ISO with milliseconds, or epoch milliseconds. */
function formatTime(time: unknown): string | undefined {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : undefined;
  return date === undefined || Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `{cause: {name: 'X'}}` → `cause.name=X`: nested fields read as dotted keys. */
function flatten(entries: [string, unknown][], prefix = ''): [string, unknown][] {
  return entries.flatMap(([key, value]): [string, unknown][] =>
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0 ? flatten(Object.entries(value), `${prefix}${key}.`) : [[`${prefix}${key}`, value]],
  );
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? escapeControls(value) : escapeControls(JSON.stringify(value));
  if (typeof value === 'object' && value !== null) return escapeControls(JSON.stringify(value));
  return String(value);
}

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is matched
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
