import { chmod, lstat, mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KeyupError } from '../../src/errors.js';
import { createLogger as createPinoLogger } from '../../src/log.js';
import { DaemonError, ReplyCutOffError, request } from '../../src/ipc/client.js';
import { RpcErrorCode, type Method } from '../../src/ipc/protocol.js';
import { AlreadyRunningError, InvalidParamsError, startSocketServer, type RequestContext, type SocketHandlers, type SocketServer, type SocketServerInit, type SocketServerLogger } from '../../src/ipc/server.js';
import { RawClient, createSocketHome, leaveStaleSocket, startFakeServer, stopFakeServer, waitUntil, whenAborted, withDeadline } from './socket-helpers.js';

interface LogLine {
  level: 'debug' | 'warn' | 'error';
  fields: object;
  message: string;
}

function createLogger(): SocketServerLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    debug: (fields, message) => lines.push({ level: 'debug', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
  };
}

/** A `rotate` the test drives: it started, the test notifies through its ctx and finishes it. */
interface Rotation {
  readonly params: unknown;
  readonly ctx: RequestContext;
  finish(result: unknown): void;
}

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let home: Awaited<ReturnType<typeof createSocketHome>>;
let servers: SocketServer[];
let rotations: Rotation[];
let calls: Record<string, number>;
let logger: ReturnType<typeof createLogger>;

function createHandlers(): SocketHandlers {
  const count = (method: Method) => (calls[method] = (calls[method] ?? 0) + 1);
  return {
    version: async () => {
      count('version');
      return { version: '9.9.9', pid: process.pid };
    },
    status: async (params) => {
      count('status');
      if (isUsage(params)) throw new KeyupError('keyup does not manage the profile nope.', { exitCode: ExitCode.usage, code: 'usage', hint: 'Name a managed profile.' });
      return { state: 'ok' };
    },
    rotate: (params, ctx) => {
      count('rotate');
      return new Promise((resolve) => rotations.push({ params, ctx, finish: resolve }));
    },
    keys: async () => {
      throw new KeyupError('IAM refused ListAccessKeys for the user alice.', { code: 'access-denied', hint: 'Allow iam:ListAccessKeys on the user.' });
    },
    config: async (params) => {
      if (params !== undefined) throw new InvalidParamsError('config takes no params.');
      return { file: null };
    },
    reload: async () => {
      throw new Error(`the secret ${SECRET} leaked into an error`);
    },
  };
}

function isUsage(params: unknown): boolean {
  return typeof params === 'object' && params !== null && 'usage' in params;
}

async function start(init: Partial<SocketServerInit> = {}): Promise<SocketServer> {
  const server = await startSocketServer({ path: home.socketPath, handlers: createHandlers(), logger, ...init });
  servers.push(server);
  return server;
}

beforeEach(async () => {
  home = await createSocketHome();
  servers = [];
  rotations = [];
  calls = {};
  logger = createLogger();
});

afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await home.remove();
});

const rpcError = (id: number | null, code: number) => ({ jsonrpc: '2.0', id, error: expect.objectContaining({ code, message: expect.any(String) }) });

describe('answers', () => {
  it('answers a request with its result', async () => {
    await start();
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
  });

  it('answers a KeyupError with -32000, its sentence, and {code, hint}', async () => {
    await start();
    const error = await request(home.socketPath, 'keys').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DaemonError);
    expect(error).toMatchObject({
      rpcCode: RpcErrorCode.failed,
      message: 'IAM refused ListAccessKeys for the user alice.',
      data: { code: 'access-denied', hint: 'Allow iam:ListAccessKeys on the user.' },
      code: 'access-denied',
      hint: 'Allow iam:ListAccessKeys on the user.',
      exitCode: ExitCode.failed,
    });
  });

  it('answers a KeyupError of exit code 2 with -32001', async () => {
    await start();
    await expect(request(home.socketPath, 'status', { usage: true })).rejects.toMatchObject({ rpcCode: RpcErrorCode.usage, data: { code: 'usage', hint: 'Name a managed profile.' }, exitCode: ExitCode.usage });
  });

  it('answers InvalidParamsError with -32602', async () => {
    await start();
    await expect(request(home.socketPath, 'config', { extra: 1 })).rejects.toMatchObject({ rpcCode: RpcErrorCode.invalidParams, message: 'config takes no params.', exitCode: ExitCode.usage });
  });

  it('answers any other failure with a generic -32603 that holds no message, stack or secret, and logs it', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":3,"method":"reload"}\n');
    const answer = await client.next();
    expect(answer).toEqual({ jsonrpc: '2.0', id: 3, error: { code: RpcErrorCode.internalError, message: 'keyupd failed unexpectedly; its log says more.' } });
    expect(JSON.stringify(answer)).not.toContain(SECRET);
    expect(logger.lines.some((line) => line.level === 'error' && line.message.includes('unexpectedly'))).toBe(true);
    client.destroy();
  });

  it('takes a pino logger, and logs an unexpected failure as its name and message, never its stack', async () => {
    const written: string[] = [];
    const pinoLogger = createPinoLogger({ level: 'debug', timestamp: false, destination: { write: (line: string) => void written.push(line) } });
    await start({ logger: pinoLogger });
    await expect(request(home.socketPath, 'reload')).rejects.toMatchObject({ rpcCode: RpcErrorCode.internalError });
    const failed = written.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'A socket request failed unexpectedly.');
    expect(failed).toMatchObject({ level: 50, method: 'reload', cause: { name: 'Error' } });
    expect(failed).not.toHaveProperty('cause.stack');
    expect(JSON.stringify(failed)).not.toContain('    at ');
  });

  it('answers an unknown method with -32601, bad JSON with -32700, and what is not a request with -32600', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":1,"method":"shutdown"}\n');
    expect(await client.next()).toEqual(rpcError(1, RpcErrorCode.methodNotFound));
    client.send('{"jsonrpc":"2.0","id":2,"method":"toString"}\n');
    expect(await client.next()).toEqual(rpcError(2, RpcErrorCode.methodNotFound));
    client.send('{"jsonrpc":"2.0", "id":\n');
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.parseError));
    client.send('{"jsonrpc":"1.0","id":4,"method":"status"}\n');
    expect(await client.next()).toEqual(rpcError(4, RpcErrorCode.invalidRequest));
    client.send('{"jsonrpc":"2.0","id":5,"method":"status","params":"all"}\n');
    expect(await client.next()).toEqual(rpcError(5, RpcErrorCode.invalidRequest));
    client.send('"status"\n');
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.invalidRequest));
    client.send(Uint8Array.of(0x7b, 0xff, 0x7d, 0x0a));
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.parseError));
    client.destroy();
  });

  it('refuses a batch with one -32600 and runs none of it', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('[{"jsonrpc":"2.0","id":1,"method":"status"},{"jsonrpc":"2.0","id":2,"method":"status"}]\n');
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.invalidRequest, message: 'keyupd does not take batches: send one request per line.' } });
    client.send('{"jsonrpc":"2.0","id":3,"method":"version"}\n');
    expect(await client.next()).toMatchObject({ id: 3 });
    expect(calls.status).toBeUndefined();
    client.destroy();
  });

  it('runs a notification from a client and answers nothing, not even an error', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","method":"status"}\n{"jsonrpc":"2.0","method":"keys"}\n{"jsonrpc":"2.0","method":"nope"}\n');
    client.send('{"jsonrpc":"2.0","id":"last","method":"version"}\n');
    expect(await client.next()).toMatchObject({ id: 'last', result: { version: '9.9.9' } });
    expect(calls.status).toBe(1);
    client.destroy();
  });

  it('carries on after garbage, a 65 KiB line and bad JSON on the same connection', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('garbage\n');
    client.send(`{"jsonrpc":"2.0","id":1,"method":"status","params":{"pad":"${'x'.repeat(65 * 1024)}"}}\n`);
    client.send('{"jsonrpc": 2.0,}\r\n');
    client.send('{"jsonrpc":"2.0","id":9,"method":"status"}\r\n');
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.parseError));
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.invalidRequest));
    expect(await client.next()).toEqual(rpcError(null, RpcErrorCode.parseError));
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 9, result: { state: 'ok' } });
    expect(calls.status).toBe(1);
    client.destroy();
  });

  it('takes a client that shuts down its side as gone: its requests are aborted', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.socket.end('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n');
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    await withDeadline(whenAborted(rotations[0]!.ctx.signal), 'ctx.signal to abort');
    rotations[0]!.finish({ outcomes: [] });
    await withDeadline(client.closed, 'the server to close its side');
  });
});

describe('many clients', () => {
  it('serves many clients at once', async () => {
    await start();
    const answers = await withDeadline(Promise.all(Array.from({ length: 40 }, () => request(home.socketPath, 'status'))), 'forty answers');
    expect(answers).toHaveLength(40);
    expect(new Set(answers.map((answer) => JSON.stringify(answer)))).toEqual(new Set(['{"state":"ok"}']));
  });

  it('streams a rotation’s progress to its client only, while another client asks status', async () => {
    await start();
    const progress: unknown[] = [];
    const rotated = request(home.socketPath, 'rotate', { profiles: ['default'] }, { onNotification: (method, params) => progress.push({ method, params }) });
    const watcher = await RawClient.connect(home.socketPath);
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    const rotation = rotations[0]!;
    expect(rotation.params).toEqual({ profiles: ['default'] });
    rotation.ctx.notify('rotate.progress', { profile: 'default', step: 'created' });
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
    rotation.ctx.notify('rotate.progress', { profile: 'default', step: 'verified' });
    rotation.finish({ outcomes: [{ profile: 'default', kind: 'rotated' }] });
    await expect(rotated).resolves.toEqual({ outcomes: [{ profile: 'default', kind: 'rotated' }] });
    expect(progress).toEqual([
      { method: 'rotate.progress', params: { profile: 'default', step: 'created' } },
      { method: 'rotate.progress', params: { profile: 'default', step: 'verified' } },
    ]);
    // The other connection heard none of it: its first message is the answer to its own request.
    watcher.send('{"jsonrpc":"2.0","id":1,"method":"version"}\n');
    expect(await watcher.next()).toMatchObject({ id: 1 });
    watcher.destroy();
  });

  it('answers requests on one connection as they finish, not in the order asked', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n{"jsonrpc":"2.0","id":2,"method":"status"}\n');
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 2, result: { state: 'ok' } });
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    rotations[0]!.ctx.notify('rotate.progress', { step: 'one' });
    rotations[0]!.finish({ outcomes: [] });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', method: 'rotate.progress', params: { step: 'one' } });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 1, result: { outcomes: [] } });
    client.destroy();
  });

  it('pauses a connection that has too many requests running, and answers them all in time', async () => {
    await start({ maxRequestsInFlight: 2 });
    const client = await RawClient.connect(home.socketPath);
    client.send([1, 2, 3, 4].map((id) => `{"jsonrpc":"2.0","id":${id},"method":"rotate"}\n`).join('') + '{"jsonrpc":"2.0","id":5,"method":"status"}\n');
    await waitUntil(() => rotations.length === 2, 'two rotations');
    // The status waits behind the rotations that could not start yet: order is kept.
    expect(calls.status).toBeUndefined();
    rotations[0]!.finish(1);
    rotations[1]!.finish(2);
    await waitUntil(() => rotations.length === 4, 'the two waiting rotations');
    rotations[2]!.finish(3);
    rotations[3]!.finish(4);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await client.next()) as { id: number });
    expect(ids.map((answer) => answer.id).sort()).toEqual([1, 2, 3, 4, 5]);
    client.destroy();
  });
});

describe('clients that misbehave', () => {
  it('drops a client that never reads while a handler keeps notifying, and stays responsive to others', async () => {
    const server = await start({ maxBufferedBytes: 64 * 1024 });
    const slow = await RawClient.connect(home.socketPath);
    slow.socket.pause();
    slow.send('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n');
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    const { ctx } = rotations[0]!;
    const blob = 'x'.repeat(8 * 1024);
    let sent = 0;
    // The rotation reports progress as fast as it can; notify never blocks it.
    const flooding = (async () => {
      while (!ctx.signal.aborted && sent < 5_000) {
        ctx.notify('rotate.progress', { blob });
        sent++;
        if (sent % 16 === 0) await yieldToLoop();
      }
    })();
    await expect(withDeadline(request(home.socketPath, 'status'), 'status while a client does not read')).resolves.toEqual({ state: 'ok' });
    await withDeadline(whenAborted(ctx.signal), 'the slow connection to be dropped');
    await flooding;
    // Dropped long before 40 MB: what it was sent is the kernel's buffer plus the 64 KiB cap.
    expect(sent).toBeLessThan(5_000);
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes('stopped reading'))).toBe(true);
    await waitUntil(() => server.connectionCount === 0, 'the connection to go');
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
    slow.destroy();
  });

  it('aborts ctx.signal when a client disconnects in the middle of a stream, and carries on', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n');
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    const rotation = rotations[0]!;
    rotation.ctx.notify('rotate.progress', { step: 'created' });
    expect(await client.next()).toMatchObject({ method: 'rotate.progress' });
    expect(rotation.ctx.signal.aborted).toBe(false);
    client.destroy();
    await withDeadline(whenAborted(rotation.ctx.signal), 'ctx.signal to abort');
    // The work goes on without its client: notifying and finishing are harmless.
    rotation.ctx.notify('rotate.progress', { step: 'verified' });
    rotation.finish({ outcomes: [] });
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
  });

  it('drops a notification JSON cannot hold, and the work goes on', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n');
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    expect(() => rotations[0]!.ctx.notify('rotate.progress', { big: 1n })).not.toThrow();
    rotations[0]!.finish({ outcomes: [] });
    expect(await client.next()).toEqual({ jsonrpc: '2.0', id: 1, result: { outcomes: [] } });
    client.destroy();
  });

  it('answers -32603 when a result cannot be written as JSON', async () => {
    await start();
    const client = await RawClient.connect(home.socketPath);
    client.send('{"jsonrpc":"2.0","id":1,"method":"rotate"}\n');
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    rotations[0]!.finish({ big: 1n });
    expect(await client.next()).toEqual(rpcError(1, RpcErrorCode.internalError));
    client.destroy();
  });
});

describe('the socket file', () => {
  it('is 0600 in a 0700 folder it made, whatever the umask', async () => {
    const previous = process.umask(0o002);
    try {
      await start();
    } finally {
      process.umask(previous);
    }
    expect((await lstat(home.socketPath)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(home.socketPath))).mode & 0o777).toBe(0o700);
    expect((await stat(join(home.dir, 'run'))).mode & 0o777).toBe(0o700);
    // Nothing else is left in the folder: the temporary name it was bound at is gone.
    expect(await readdir(dirname(home.socketPath))).toEqual(['keyupd.sock']);
  });

  it('tightens keyup’s own folder to 0700, and leaves any other folder as it is', async () => {
    await mkdir(dirname(home.socketPath), { recursive: true });
    await chmod(dirname(home.socketPath), 0o755);
    await start();
    expect((await stat(dirname(home.socketPath))).mode & 0o777).toBe(0o700);

    const elsewhere = join(home.dir, 'sockets');
    await mkdir(elsewhere, { mode: 0o755 });
    await chmod(elsewhere, 0o755);
    await start({ path: join(elsewhere, 'k.sock') });
    expect((await stat(elsewhere)).mode & 0o777).toBe(0o755);
    expect((await lstat(join(elsewhere, 'k.sock'))).mode & 0o777).toBe(0o600);
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes('Other users may enter'))).toBe(true);
  });

  it('replaces a stale socket a crashed daemon left', async () => {
    await mkdir(dirname(home.socketPath), { recursive: true, mode: 0o700 });
    await leaveStaleSocket(home.socketPath);
    const before = await lstat(home.socketPath);
    expect(before.isSocket()).toBe(true);
    await start();
    expect((await lstat(home.socketPath)).ino).not.toBe(before.ino);
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
  });

  it('refuses to start over a live daemon, naming its pid, and leaves it serving', async () => {
    await start();
    const socketBefore = await lstat(home.socketPath);
    const error = await startSocketServer({ path: home.socketPath, handlers: createHandlers() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AlreadyRunningError);
    expect(error).toMatchObject({ pid: process.pid, exitCode: ExitCode.usage, message: `keyupd is already running (pid ${process.pid}, socket ${home.socketPath}).` });
    expect((await lstat(home.socketPath)).ino).toBe(socketBefore.ino);
    await expect(request(home.socketPath, 'status')).resolves.toEqual({ state: 'ok' });
    expect(await readdir(dirname(home.socketPath))).toEqual(['keyupd.sock']);
  });

  it('refuses to take over a listener that is not keyupd and does not answer', async () => {
    await mkdir(dirname(home.socketPath), { recursive: true, mode: 0o700 });
    const other = await startFakeServer(home.socketPath, () => undefined);
    try {
      await expect(startSocketServer({ path: home.socketPath, handlers: createHandlers(), probeTimeoutMs: 200 })).rejects.toMatchObject({ name: 'AlreadyRunningError', pid: null });
      expect((await lstat(home.socketPath)).isSocket()).toBe(true);
    } finally {
      await stopFakeServer(other);
    }
  });

  it('never removes a path that is not a socket', async () => {
    await mkdir(dirname(home.socketPath), { recursive: true, mode: 0o700 });
    await writeFile(home.socketPath, 'my notes\n');
    const error = await startSocketServer({ path: home.socketPath, handlers: createHandlers() }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect((error as KeyupError).message).toBe(`${home.socketPath} exists and is not a socket; keyupd will not remove it.`);
    expect(await readFile(home.socketPath, 'utf8')).toBe('my notes\n');
    expect(await readdir(dirname(home.socketPath))).toEqual(['keyupd.sock']);
  });

  it('refuses a path too long for a Unix socket, before making anything', async () => {
    const path = join(home.dir, 'x'.repeat(100), 'keyupd.sock');
    await expect(startSocketServer({ path, handlers: createHandlers() })).rejects.toMatchObject({ code: 'usage', exitCode: ExitCode.usage });
    expect(await readdir(home.dir)).toEqual([]);
  });

  it('close() ends connections, aborts their requests and removes the socket', async () => {
    const server = await start();
    const rotated = request(home.socketPath, 'rotate').catch((caught: unknown) => caught);
    await waitUntil(() => rotations.length === 1, 'the rotation to start');
    await withDeadline(server.close(), 'close()');
    expect(rotations[0]!.ctx.signal.aborted).toBe(true);
    expect(await rotated).toBeInstanceOf(ReplyCutOffError);
    await expect(lstat(home.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(server.close()).resolves.toBeUndefined();
  });

  it('close() leaves the path alone when it no longer holds this server’s socket', async () => {
    const server = await start();
    await unlink(home.socketPath);
    await writeFile(home.socketPath, 'someone else’s\n');
    await server.close();
    expect(await readFile(home.socketPath, 'utf8')).toBe('someone else’s\n');
  });

  it('close() destroys a client that does not close its side, after the grace period', async () => {
    const server = await start({ closeGraceMs: 50 });
    const client = await RawClient.connect(home.socketPath);
    client.socket.pause();
    await waitUntil(() => server.connectionCount === 1, 'the connection');
    await withDeadline(server.close(), 'close() with a client that holds on');
    client.socket.resume();
    await withDeadline(client.closed, 'the client to be closed');
  });
});
