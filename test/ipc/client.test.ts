import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, KeyupError } from '../../src/errors.js';
import { DaemonError, DaemonNotRunningError, MalformedReplyError, ReplyCutOffError, ReplyTimeoutError, request } from '../../src/ipc/client.js';
import { LineSplitter } from '../../src/ipc/framing.js';
import { createSocketHome, leaveStaleSocket, startFakeServer, stopFakeServer, withDeadline } from './socket-helpers.js';

let home: Awaited<ReturnType<typeof createSocketHome>>;
let fakes: Awaited<ReturnType<typeof startFakeServer>>[];

beforeEach(async () => {
  home = await createSocketHome();
  fakes = [];
  await mkdir(dirname(home.socketPath), { recursive: true, mode: 0o700 });
});

afterEach(async () => {
  await Promise.all(fakes.map(stopFakeServer));
  await home.remove();
});

/** A daemon stand-in: `reply` gets each request line keyupctl sends and the socket to answer on. */
async function fakeDaemon(reply: (request: Record<string, unknown>, socket: Socket) => void): Promise<void> {
  fakes.push(
    await startFakeServer(home.socketPath, (socket) => {
      const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
      socket.on('data', (chunk: Buffer) => {
        for (const event of splitter.push(chunk)) {
          if (event.kind === 'line') reply(JSON.parse(event.text) as Record<string, unknown>, socket);
        }
      });
    }),
  );
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return withDeadline(
    promise.then(
      (result) => expect.fail(`resolved with ${JSON.stringify(result)}`),
      (error: unknown) => error,
    ),
    'the request to fail',
  );
}

describe('request', () => {
  it('sends one JSON-RPC request and resolves with the result', async () => {
    const seen: unknown[] = [];
    await fakeDaemon((message, socket) => {
      seen.push(message);
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { pid: 7 } })}\n`);
    });
    await expect(request(home.socketPath, 'version')).resolves.toEqual({ pid: 7 });
    await expect(request(home.socketPath, 'rotate', { force: true })).resolves.toEqual({ pid: 7 });
    expect(seen).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'version' },
      { jsonrpc: '2.0', id: 1, method: 'rotate', params: { force: true } },
    ]);
  });

  it('hands each notification to onNotification, in order, before resolving', async () => {
    await fakeDaemon((message, socket) => {
      socket.write('{"jsonrpc":"2.0","method":"rotate.progress","params":{"step":"created"}}\n{"jsonrpc":"2.0","method":"rotate.progress","params":{"step":"verified"}}\r\n');
      socket.write(`{"jsonrpc":"2.0","id":${String(message.id)},"result":{"outcomes":[]}}\n`);
    });
    const heard: unknown[] = [];
    await expect(request(home.socketPath, 'rotate', undefined, { onNotification: (method, params) => heard.push([method, params]) })).resolves.toEqual({ outcomes: [] });
    expect(heard).toEqual([
      ['rotate.progress', { step: 'created' }],
      ['rotate.progress', { step: 'verified' }],
    ]);
  });

  it('keeps the daemon’s error: its code, message and data, as a KeyupError with an exit code', async () => {
    await fakeDaemon((message, socket) => {
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32001, message: 'keyup does not manage the profile nope.', data: { code: 'usage', hint: 'Name a managed profile.' } } })}\n`);
    });
    const error = await failure(request(home.socketPath, 'keys', { profile: 'nope' }));
    expect(error).toBeInstanceOf(DaemonError);
    expect(error).toBeInstanceOf(KeyupError);
    expect(error).toMatchObject({ rpcCode: -32001, message: 'keyup does not manage the profile nope.', data: { code: 'usage', hint: 'Name a managed profile.' }, hint: 'Name a managed profile.', code: 'usage', exitCode: ExitCode.usage });
  });

  it('takes an error answered with id null (a request the daemon could not read) as the daemon’s error', async () => {
    await fakeDaemon((_message, socket) => socket.write('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"The request is longer than 65536 bytes."}}\n'));
    await expect(failure(request(home.socketPath, 'status'))).resolves.toMatchObject({ name: 'DaemonError', rpcCode: -32600, exitCode: ExitCode.failed });
  });

  it('reads a last answer that ends without its newline', async () => {
    await fakeDaemon((message, socket) => socket.end(`{"jsonrpc":"2.0","id":${String(message.id)},"result":"ok"}`));
    await expect(request(home.socketPath, 'status')).resolves.toBe('ok');
  });

  it('ends with what onNotification throws', async () => {
    await fakeDaemon((_message, socket) => socket.write('{"jsonrpc":"2.0","method":"rotate.progress","params":{}}\n'));
    const thrown = new Error('the terminal went away');
    await expect(
      failure(
        request(home.socketPath, 'rotate', undefined, {
          onNotification: () => {
            throw thrown;
          },
        }),
      ),
    ).resolves.toBe(thrown);
  });
});

describe('not running', () => {
  async function expectNotRunning(path: string, osCode: string): Promise<void> {
    const error = await failure(request(path, 'status'));
    expect(error).toBeInstanceOf(DaemonNotRunningError);
    expect(error).toMatchObject({ osCode, exitCode: ExitCode.unreachable, message: `keyupd is not running (nothing listens at ${path}).` });
    expect((error as KeyupError).hint).toMatch(/keyupctl install/);
  }

  it('says keyupd is not running when there is no socket (ENOENT)', async () => {
    await expectNotRunning(home.socketPath, 'ENOENT');
  });

  it('says keyupd is not running when the socket is a crash’s leftover (ECONNREFUSED)', async () => {
    await leaveStaleSocket(home.socketPath);
    await expectNotRunning(home.socketPath, 'ECONNREFUSED');
  });

  it('says keyupd is not running when the path is not a socket (ENOTSOCK, ECONNREFUSED on Linux)', async () => {
    await writeFile(home.socketPath, 'not a socket');
    const error = await failure(request(home.socketPath, 'status'));
    expect(error).toBeInstanceOf(DaemonNotRunningError);
    expect(['ENOTSOCK', 'ECONNREFUSED']).toContain((error as DaemonNotRunningError).osCode);
  });

  it('says keyupd is not running when a folder of the path is a file (ENOTDIR)', async () => {
    await writeFile(join(home.dir, 'file'), '');
    await expectNotRunning(join(home.dir, 'file', 'keyupd.sock'), 'ENOTDIR');
  });

  it('refuses a socket path too long for the kernel instead of connecting to a cut one', async () => {
    await expect(failure(request(join(home.dir, 'y'.repeat(120)), 'status'))).resolves.toMatchObject({ code: 'usage', exitCode: ExitCode.usage });
  });
});

describe('bad, cut and late answers', () => {
  it('calls a reply that is not JSON malformed', async () => {
    await fakeDaemon((_message, socket) => socket.write('hello there\n'));
    const error = await failure(request(home.socketPath, 'status'));
    expect(error).toBeInstanceOf(MalformedReplyError);
    expect(error).toMatchObject({ exitCode: ExitCode.failed, message: 'keyupd sent a reply keyupctl cannot read: a line that is not JSON.' });
  });

  it('calls an answer to another request, or a message that is no JSON-RPC, malformed', async () => {
    await fakeDaemon((_message, socket) => socket.write('{"jsonrpc":"2.0","id":2,"result":1}\n'));
    await expect(failure(request(home.socketPath, 'status'))).resolves.toBeInstanceOf(MalformedReplyError);
    await Promise.all(fakes.splice(0).map(stopFakeServer));
    await fakeDaemon((_message, socket) => socket.write('{"id":1,"result":1}\n'));
    await expect(failure(request(home.socketPath, 'status'))).resolves.toBeInstanceOf(MalformedReplyError);
  });

  it('calls a reply longer than its cap malformed, without holding it', async () => {
    await fakeDaemon((_message, socket) => socket.write(`"${'x'.repeat(4096)}"\n`));
    await expect(failure(request(home.socketPath, 'status', undefined, { maxReplyBytes: 1024 }))).resolves.toBeInstanceOf(MalformedReplyError);
  });

  it('says the reply was cut off when the daemon closes before answering', async () => {
    await fakeDaemon((_message, socket) => socket.end());
    const error = await failure(request(home.socketPath, 'rotate'));
    expect(error).toBeInstanceOf(ReplyCutOffError);
    expect(error).toMatchObject({ exitCode: ExitCode.failed, message: 'keyupd closed the connection before answering rotate.' });
  });

  it('says the reply was cut off when the daemon closes in the middle of a line', async () => {
    await fakeDaemon((_message, socket) => socket.end('{"jsonrpc":"2.0","method":"rotate.progress"}\n{"jsonrpc":"2.0","id":1,"res'));
    await expect(failure(request(home.socketPath, 'rotate'))).resolves.toBeInstanceOf(ReplyCutOffError);
  });

  it('says the daemon is late when it stays silent for timeoutMs', async () => {
    await fakeDaemon(() => undefined);
    const error = await failure(request(home.socketPath, 'status', undefined, { timeoutMs: 150 }));
    expect(error).toBeInstanceOf(ReplyTimeoutError);
    expect(error).toMatchObject({ timeoutMs: 150, exitCode: ExitCode.failed, message: 'keyupd did not answer status within 150 ms.' });
  });

  it('counts the timeout from the last message, so a long rotation that keeps reporting is not cut short', async () => {
    const every = 40;
    const count = 15; // 600 ms in all, three times the silence allowed
    await fakeDaemon((message, socket) => {
      let sent = 0;
      const timer = setInterval(() => {
        if (socket.destroyed) return clearInterval(timer);
        if (++sent < count) return void socket.write(`{"jsonrpc":"2.0","method":"rotate.progress","params":{"n":${sent}}}\n`);
        clearInterval(timer);
        socket.write(`{"jsonrpc":"2.0","id":${String(message.id)},"result":"rotated"}\n`);
      }, every);
    });
    let heard = 0;
    const started = Date.now();
    await expect(request(home.socketPath, 'rotate', undefined, { timeoutMs: 200, onNotification: () => heard++ })).resolves.toBe('rotated');
    expect(Date.now() - started).toBeGreaterThan(200);
    expect(heard).toBe(count - 1);
  });
});
