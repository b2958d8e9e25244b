import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyslogTarget } from '../src/config/index.js';
import { formatPlainLine, openLogDestination, type ConsoleStream, type LogDestination, type OpenLogDestinationInit } from '../src/log-destination.js';
import { createLogger } from '../src/log.js';
import { waitFor } from './e2e/keyupd.js';
import { createTempHome, type TempHome } from './support/temp-home.js';

const syslogDefault = { transport: 'udp' as const, host: '127.0.0.1', port: 514 };
const SECRET = 'wJalrXUtnFEMI/K7MDENG';
const modeOf = async (path: string) => (await fs.stat(path)).mode & 0o7777;

/** A console that keeps what is written, a terminal or not. */
function createConsole(isTTY: boolean): ConsoleStream & { text: () => string; emitter: EventEmitter } {
  const emitter = new EventEmitter();
  let text = '';
  return {
    isTTY,
    emitter,
    text: () => text,
    write: (chunk) => {
      text += chunk;
      return true;
    },
    on: (event, listener) => emitter.on(event, listener),
    off: (event, listener) => emitter.off(event, listener),
  };
}

/** openLogDestination's collaborators, with the warnings kept. */
function createInit(overrides: Partial<OpenLogDestinationInit> = {}): OpenLogDestinationInit & { warnings: string[] } {
  const warnings: string[] = [];
  return { fs: nodeFs, consoleStream: createConsole(false), warn: (sentence) => warnings.push(sentence), warnings, ...overrides };
}

/** A warning as SPEC wants one: a single plain sentence, no stack. */
function expectPlainSentence(sentence: string | undefined): void {
  expect(sentence).toMatch(/^cannot log to \S.*\.$/);
  expect(sentence).not.toMatch(/\n|\bat .*:\d+:\d+/);
}

async function closeWithin(destination: LogDestination, ms: number): Promise<number> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([destination.close(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`close() did not settle within ${ms} ms`)), ms)))]);
  clearTimeout(timer);
  return Date.now() - started;
}

describe('openLogDestination: log = file', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  const openFile = (logFile: string, init = createInit()) => openLogDestination({ log: 'file', logFile, syslog: syslogDefault }, init);

  it('writes JSON lines to a 0600 file in a 0700 folder it makes', async () => {
    const logFile = join(home.dir, 'state', 'keyup', 'keyupd.log');
    const destination = await openFile(logFile);
    createLogger({ destination: destination.stream }).info({ profile: 'default' }, 'rotated');
    await destination.close();
    const line = JSON.parse((await fs.readFile(logFile, 'utf8')).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'rotated', profile: 'default', name: 'keyupd' });
    expect(await modeOf(logFile)).toBe(0o600);
    expect(await modeOf(join(home.dir, 'state'))).toBe(0o700);
    expect(await modeOf(join(home.dir, 'state', 'keyup'))).toBe(0o700);
  });

  // Issue 7, hole 5: the log file's existing folder was chmod 0700 (HOME, /tmp, and as root `/`).
  it('leaves the mode of the folder it did not make: 0755, 1777 (hole 5)', async () => {
    for (const mode of [0o755, 0o1777]) {
      const folder = join(home.dir, `f${mode.toString(8)}`);
      await fs.mkdir(folder);
      await fs.chmod(folder, mode);
      const init = createInit();
      const destination = await openFile(join(folder, 'keyupd.log'), init);
      createLogger({ destination: destination.stream }).info('hello');
      await destination.close();
      expect(await modeOf(folder)).toBe(mode);
      expect(await modeOf(join(folder, 'keyupd.log'))).toBe(0o600);
      expect(init.warnings).toEqual([]);
    }
  });

  // Issue 7, hole 14: SPEC says every file keyup writes is 0600; an older 0644 log stayed 0644.
  it('makes a pre-existing 0644 log file 0600 and appends to it (hole 14)', async () => {
    const logFile = join(home.dir, 'keyupd.log');
    await fs.writeFile(logFile, 'older line\n');
    await fs.chmod(logFile, 0o644);
    const destination = await openFile(logFile);
    createLogger({ destination: destination.stream }).info('newer line');
    await destination.close();
    expect(await modeOf(logFile)).toBe(0o600);
    const lines = (await fs.readFile(logFile, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('older line');
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'newer line' });
  });

  it('refuses a log_file that is a folder with one warning, and logging goes on harmlessly (hole 14)', async () => {
    const folder = join(home.dir, 'logs');
    await fs.mkdir(folder, { mode: 0o755 });
    const init = createInit();
    const destination = await openFile(folder, init);
    const logger = createLogger({ destination: destination.stream });
    logger.info('one');
    logger.error('two');
    await closeWithin(destination, 500);
    expect(init.warnings).toHaveLength(1);
    expectPlainSentence(init.warnings[0]);
    expect(init.warnings[0]).toContain(`${folder}: it is not a regular file`);
    expect(await modeOf(folder)).toBe(0o755);
  });

  it('refuses a FIFO nobody reads at once, instead of waiting for a reader forever (hole 14)', async () => {
    const fifo = join(home.dir, 'log.fifo');
    execFileSync('mkfifo', ['-m', '0644', fifo]);
    const init = createInit();
    const destination = await openFile(fifo, init);
    createLogger({ destination: destination.stream }).info('lost');
    await closeWithin(destination, 500);
    expect(init.warnings).toHaveLength(1);
    expect(init.warnings[0]).toContain(`${fifo}: it is not a regular file`);
    expect(await modeOf(fifo)).toBe(0o644);
  });

  it('is one warning when the folder cannot be made', async () => {
    await fs.writeFile(join(home.dir, 'blocker'), '');
    const init = createInit();
    const destination = await openFile(join(home.dir, 'blocker', 'keyup', 'keyupd.log'), init);
    createLogger({ destination: destination.stream }).info('lost');
    await destination.close();
    expect(init.warnings).toEqual([
      `cannot log to ${join(home.dir, 'blocker', 'keyup', 'keyupd.log')}: cannot make the folder ${join(home.dir, 'blocker', 'keyup')}: ${join(home.dir, 'blocker')} is in the way and is not a folder; fix that or choose another log_file in the keyup config.`,
    ]);
  });

  it('warns once when writes fail (a full disk), and again only after they worked in between', async () => {
    let full = true;
    const init = createInit({
      fs: {
        ...nodeFs,
        writeSync: (fd: number, data: Uint8Array) => {
          if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return nodeFs.writeSync(fd, data);
        },
      },
    });
    const logFile = join(home.dir, 'keyupd.log');
    const destination = await openFile(logFile, init);
    const logger = createLogger({ destination: destination.stream });
    logger.info('lost 1');
    logger.info('lost 2');
    full = false;
    logger.info('kept');
    full = true;
    logger.info('lost 3');
    await destination.close();
    expect(init.warnings).toEqual([
      `cannot log to ${logFile}: no space is left on the disk (ENOSPC); fix that or choose another log_file in the keyup config.`,
      `cannot log to ${logFile}: no space is left on the disk (ENOSPC); fix that or choose another log_file in the keyup config.`,
    ]);
    expect(await fs.readFile(logFile, 'utf8')).toMatch(/^\{.*"msg":"kept"\}\n$/);
  });
});

describe('openLogDestination: log = stdout', () => {
  const openConsole = (consoleStream: ConsoleStream, init = createInit({ consoleStream })) => openLogDestination({ log: 'stdout', logFile: '/unused', syslog: syslogDefault }, init);

  it('writes JSON lines when the stream is not a terminal', async () => {
    const stream = createConsole(false);
    const destination = await openConsole(stream);
    createLogger({ destination: destination.stream, timestamp: destination.timestamp }).info({ profile: 'default', secretAccessKey: SECRET }, 'rotated');
    await destination.close();
    expect(JSON.parse(stream.text())).toMatchObject({ msg: 'rotated', profile: 'default', secretAccessKey: '[secret]' });
  });

  it('writes plain lines for people on a terminal, secrets still censored', async () => {
    const stream = createConsole(true);
    const destination = await openConsole(stream);
    const logger = createLogger({ destination: destination.stream, timestamp: destination.timestamp, level: 'debug' });
    logger.info({ profile: 'default', step: 'done', secretAccessKey: SECRET, key: { aws_session_token: 'FwoGZXIvYXdzE' } }, 'Rotated profile default.');
    logger.debug('no fields');
    await destination.close();
    const lines = stream.text().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO {2}Rotated profile default\. {2}profile=default step=done secretAccessKey=\[secret\] key\.aws_session_token=\[secret\]$/);
    expect(lines[1]).toMatch(/^\S+Z DEBUG no fields$/);
    expect(stream.text()).not.toContain(SECRET);
    expect(stream.text()).not.toContain('FwoGZXIvYXdzE');
  });

  it('takes an explicit format over what the stream is', async () => {
    const stream = createConsole(true);
    const destination = await openConsole(stream, createInit({ consoleStream: stream, format: 'json' }));
    createLogger({ destination: destination.stream }).info('as JSON');
    expect(JSON.parse(stream.text())).toMatchObject({ msg: 'as JSON' });
  });

  it('turns a broken pipe into one warning, not a crash', async () => {
    const stream = createConsole(false);
    const init = createInit({ consoleStream: stream });
    const destination = await openConsole(stream, init);
    stream.emitter.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    stream.emitter.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    await destination.close();
    expect(init.warnings).toEqual(['cannot log to the console: the reader went away (EPIPE); log to a file instead (log = file).']);
    expect(stream.emitter.listenerCount('error')).toBe(0);
  });
});

describe('openLogDestination: what nobody foresaw', () => {
  it('is one warning and a destination that drops lines, never a throw', async () => {
    const broken = {
      ...createConsole(false),
      on: () => {
        throw new Error('surprise');
      },
    };
    const init = createInit({ consoleStream: broken });
    const destination = await openLogDestination({ log: 'stdout', logFile: '/unused', syslog: syslogDefault }, init);
    createLogger({ destination: destination.stream }).info('dropped');
    await destination.close();
    expect(init.warnings).toEqual(['cannot log to stdout: surprise; set log = file in the keyup config meanwhile, and report this.']);
  });
});

describe('formatPlainLine', () => {
  it('reads like `TIME LEVEL  message  key=value …`', () => {
    const line = JSON.stringify({ level: 40, time: '2026-11-24T07:00:00.123Z', pid: 42, name: 'keyupd', profile: 'default', ageDays: 81.5, ok: true, note: null, msg: 'Key is old.' });
    expect(formatPlainLine(line)).toBe('2026-11-24T07:00:00Z WARN  Key is old.  profile=default ageDays=81.5 ok=true note=null\n');
  });

  it('quotes values with spaces, flattens nested fields, and keeps every record on one line', () => {
    const line = JSON.stringify({ level: 50, time: Date.UTC(2026, 10, 24, 7), msg: 'Failed:\nnext line \u001b[31mred', cause: { name: 'AccessDenied', message: 'User: x is not "allowed"' }, list: [1, 2] });
    expect(formatPlainLine(line)).toBe(
      '2026-11-24T07:00:00Z ERROR Failed:\\nnext line \\u001b[31mred  cause.name=AccessDenied cause.message="User: x is not \\"allowed\\"" list=[1,2]\n',
    );
  });

  it('passes a line that is not JSON through, escaped', () => {
    expect(formatPlainLine('not json\u0007\n')).toBe('not json\\u0007\n');
  });
});

describe('openLogDestination: log = syslog (issue 7, hole 7)', () => {
  const openSyslog = (syslog: SyslogTarget, init = createInit()) => openLogDestination({ log: 'syslog', logFile: '/unused', syslog }, init);

  async function listenUdp() {
    const server = createSocket('udp4');
    const received: string[] = [];
    server.on('message', (message) => received.push(message.toString('utf8')));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    return { server, received, port: server.address().port };
  }

  interface TcpListener {
    server: Server;
    sockets: Set<Socket>;
    text: () => string;
    port: number;
    stop(): Promise<void>;
  }

  async function listenTcp(port = 0, { read = true } = {}): Promise<TcpListener> {
    const sockets = new Set<Socket>();
    let text = '';
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      if (read) socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      else socket.pause();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP port');
    return {
      server,
      sockets,
      text: () => text,
      port: address.port,
      stop: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  it('sends RFC 5424 lines over UDP with the real hostname, secrets censored, and close() settles', async () => {
    const { server, received, port } = await listenUdp();
    try {
      const destination = await openSyslog({ transport: 'udp', host: '127.0.0.1', port });
      createLogger({ destination: destination.stream, timestamp: destination.timestamp }).warn({ secretAccessKey: SECRET }, 'key is old');
      // Hole 7: this close() waited for a 'close' event that never came, and the run exited 13.
      await closeWithin(destination, 2_500);
      const line = await waitFor('the syslog line', () => received[0]);
      expect(line).toMatch(new RegExp(`^<132>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ ${hostname().replace(/\./g, '\\.')} keyupd ${process.pid} - - \\{`));
      expect(line).toContain('key is old');
      expect(line).not.toContain(SECRET);
      expect(line.endsWith('\n')).toBe(false);
    } finally {
      server.close();
    }
  });

  it('uses the hostname it is given, cleaned to what RFC 5424 allows', async () => {
    const { server, received, port } = await listenUdp();
    try {
      const destination = await openSyslog({ transport: 'udp', host: '127.0.0.1', port }, createInit({ hostname: 'my host.example' }));
      createLogger({ destination: destination.stream, timestamp: destination.timestamp }).info('hello');
      await destination.close();
      expect(await waitFor('the syslog line', () => received[0])).toMatch(/^<134>1 \S+ myhost\.example keyupd /);
    } finally {
      server.close();
    }
  });

  it('sends newline-framed lines over TCP and closes within the bound', async () => {
    const listener = await listenTcp();
    try {
      const destination = await openSyslog({ transport: 'tcp', host: '127.0.0.1', port: listener.port });
      const logger = createLogger({ destination: destination.stream, timestamp: destination.timestamp });
      for (let i = 0; i < 3; i += 1) logger.info({ i }, `line ${i}`);
      await closeWithin(destination, 2_500);
      await waitFor('three lines', () => listener.text().split('\n').length === 4);
      const lines = listener.text().split('\n');
      expect(lines.pop()).toBe('');
      lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^<134>1 \\S+ \\S+ keyupd \\d+ - - \\{.*"msg":"line ${i}".*\\}$`)));
    } finally {
      await listener.stop();
    }
  });

  it('sends newline-framed lines to a Unix stream socket', async () => {
    const home = await createTempHome();
    const path = join(home.dir, 'syslog.sock');
    let text = '';
    const server = createServer((socket) => socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const destination = await openSyslog({ transport: 'unix', path });
      createLogger({ destination: destination.stream, timestamp: destination.timestamp }).info('over unix');
      await closeWithin(destination, 2_500);
      await waitFor('the line', () => text.endsWith('\n'));
      expect(text).toMatch(/^<134>1 \S+ \S+ keyupd \d+ - - \{.*"msg":"over unix".*\}\n$/);
    } finally {
      server.close();
      await home.remove();
    }
  });

  it('is one warning when nothing listens on the TCP port, and close() settles at once (hole 7)', async () => {
    const init = createInit();
    const destination = await openSyslog({ transport: 'tcp', host: '127.0.0.1', port: 1 }, init);
    const logger = createLogger({ destination: destination.stream, timestamp: destination.timestamp });
    logger.info('one');
    await waitFor('the warning', () => init.warnings.length > 0);
    logger.info('two');
    expect(await closeWithin(destination, 2_500)).toBeLessThan(500);
    expect(init.warnings).toEqual(['cannot log to syslog at tcp://127.0.0.1:1: nothing accepts connections there (ECONNREFUSED); check that a syslog server listens there, or change syslog in the keyup config.']);
    expectPlainSentence(init.warnings[0]);
  });

  it('is one warning for a Unix socket that does not exist', async () => {
    const init = createInit();
    const destination = await openSyslog({ transport: 'unix', path: '/nonexistent/keyup-test.sock' }, init);
    await waitFor('the warning', () => init.warnings.length > 0);
    await closeWithin(destination, 2_500);
    expect(init.warnings).toEqual(['cannot log to syslog at /nonexistent/keyup-test.sock: it does not exist (ENOENT); check that a syslog server listens there, or change syslog in the keyup config.']);
  });

  it('delivers what was logged before the TCP connection was up', async () => {
    const listener = await listenTcp();
    try {
      const destination = await openSyslog({ transport: 'tcp', host: '127.0.0.1', port: listener.port });
      // Logged at once, before the connection can have been made: queued, then sent.
      createLogger({ destination: destination.stream, timestamp: destination.timestamp }).info('early');
      await closeWithin(destination, 2_500);
      await waitFor('the early line', () => listener.text().includes('"msg":"early"'));
    } finally {
      await listener.stop();
    }
  });

  it('survives a TCP syslog server that goes away and comes back, and reconnects', async () => {
    let listener = await listenTcp();
    const { port } = listener;
    const init = createInit({ reconnectDelayMs: { first: 20, max: 100 } });
    const destination = await openSyslog({ transport: 'tcp', host: '127.0.0.1', port }, init);
    const logger = createLogger({ destination: destination.stream, timestamp: destination.timestamp });
    try {
      logger.info('before');
      await waitFor('the first line', () => listener.text().includes('"msg":"before"'));
      await listener.stop();
      await waitFor('a warning that the server went away', () => init.warnings.length > 0);
      expect(init.warnings).toHaveLength(1);
      expectPlainSentence(init.warnings[0]);
      logger.info('while away');
      listener = await listenTcp(port);
      await waitFor('the reconnection', () => listener.sockets.size > 0, { timeoutMs: 5_000 });
      logger.info('after');
      await waitFor('lines after the server came back', () => listener.text().includes('"msg":"after"'));
      expect(listener.text()).toContain('"msg":"while away"');
      expect(init.warnings.length).toBeLessThanOrEqual(2);
    } finally {
      await closeWithin(destination, 2_500);
      await listener.stop();
    }
  });

  it('settles close() within its bound when the TCP server takes the connection but never answers', async () => {
    const listener = await listenTcp(0, { read: false });
    try {
      const init = createInit({ closeTimeoutMs: 200 });
      const destination = await openSyslog({ transport: 'tcp', host: '127.0.0.1', port: listener.port }, init);
      const logger = createLogger({ destination: destination.stream, timestamp: destination.timestamp });
      // More than may wait for the connection: the oldest are dropped, and that is said.
      const big = 'x'.repeat(60_000);
      for (let i = 0; i < 200; i += 1) logger.info({ big }, 'flood');
      const elapsed = await closeWithin(destination, 1_500);
      // The server never closes its side: close() waited for it, up to the bound and no more.
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(init.warnings.length).toBeGreaterThanOrEqual(1);
      for (const warning of init.warnings) expectPlainSentence(warning);
    } finally {
      await listener.stop();
    }
  });
});
