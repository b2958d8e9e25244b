import { once } from 'node:events';
import { linkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { LineSplitter } from '../../src/ipc/framing.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

/**
 * A temp home whose path is short: a Unix socket path may have only about 104 bytes, and the
 * socket lives a few folders down (`/tmp/kip-XXXXXX/run/keyup/keyupd.sock`).
 */
export async function createSocketHome(): Promise<TempHome & { socketPath: string }> {
  const home = await createTempHome('kip-');
  return { ...home, socketPath: join(home.dir, 'run', 'keyup', 'keyupd.sock') };
}

/** Resolves with `promise`, or fails naming `what` once `ms` have passed. */
export async function withDeadline<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `signal` is aborted, at once if it already is. */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : once(signal, 'abort').then(() => undefined);
}

/** Polls `check` (every few ms) until it is true, or fails naming `what` at the deadline. */
export async function waitUntil(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A socket client speaking raw lines, to send what keyupctl never would. */
export class RawClient {
  private readonly messages: unknown[] = [];
  private readonly waiters: ((message: unknown) => void)[] = [];
  private readonly splitter = new LineSplitter({ maxLineBytes: 16 * 1024 * 1024 });
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const event of this.splitter.push(chunk)) {
        if (event.kind !== 'line') throw new Error(`unexpected ${event.kind} from the server`);
        const message: unknown = JSON.parse(event.text);
        const waiter = this.waiters.shift();
        if (waiter) waiter(message);
        else this.messages.push(message);
      }
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => undefined);
  }

  static async connect(path: string): Promise<RawClient> {
    const socket = createConnection(path);
    await withDeadline(once(socket, 'connect'), `a connection to ${path}`);
    return new RawClient(socket);
  }

  send(text: string | Uint8Array): void {
    this.socket.write(text);
  }

  /** The next message the server sends, parsed. */
  next(what = 'a message from the server', ms?: number): Promise<unknown> {
    const message = this.messages.shift();
    if (message !== undefined) return Promise.resolve(message);
    return withDeadline(new Promise((resolve) => this.waiters.push(resolve)), what, ms);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Leaves a socket file at `path` that nobody listens on, as a crashed daemon does: bound under
 * another name and hard-linked, so that closing (which unlinks the bound name) keeps `path`.
 */
export async function leaveStaleSocket(path: string): Promise<void> {
  const bound = join(dirname(path), 'stale-bind');
  const server = createServer();
  server.listen(bound);
  await once(server, 'listening');
  linkSync(bound, path);
  await closeServer(server);
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A listener that is not keyupd: `onConnection` decides what it says. */
export async function startFakeServer(path: string, onConnection: (socket: Socket) => void): Promise<Server & { sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = Object.assign(
    createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      onConnection(socket);
    }),
    { sockets },
  );
  server.listen(path);
  await once(server, 'listening');
  return server;
}

export async function stopFakeServer(server: Server & { sockets: Set<Socket> }): Promise<void> {
  for (const socket of server.sockets) socket.destroy();
  await closeServer(server);
}
