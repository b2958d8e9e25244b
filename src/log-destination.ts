import { dirname } from 'node:path';
import pino, { type DestinationStream } from 'pino';
import type { Settings } from './config/index.js';

export interface LogDestination {
  readonly stream: DestinationStream;
  /** pino-syslog reads pino's epoch time; people reading a file or a terminal prefer ISO. */
  readonly timestamp: 'iso' | 'epoch';
  /** Flushes what is buffered and lets the process exit; a worker-thread transport must be ended. */
  close(): Promise<void>;
}

/**
 * Opens where the log goes (SPEC `log`, `log_file`, `syslog`). A file is 0600 in a folder keyup
 * makes 0700. Syslog lines are formatted by pino-syslog (RFC 5424) and carried by pino-socket
 * over UDP, TCP or a Unix stream socket, in a worker thread so a slow log server never stalls
 * a rotation.
 */
export async function openLogDestination(settings: Pick<Settings, 'log' | 'logFile' | 'syslog'>, ensureDir: (dir: string) => Promise<void>): Promise<LogDestination> {
  switch (settings.log) {
    case 'stdout': {
      const stream = pino.destination({ dest: 1, sync: true });
      return { stream, timestamp: 'iso', close: async () => stream.flushSync() };
    }
    case 'file': {
      await ensureDir(dirname(settings.logFile));
      const stream = pino.destination({ dest: settings.logFile, sync: true, mode: 0o600 });
      return { stream, timestamp: 'iso', close: async () => stream.end() };
    }
    case 'syslog': {
      const target = settings.syslog;
      const socket: Record<string, unknown> =
        target.transport === 'unix'
          ? { unixsocket: target.path }
          : // TCP syslog frames each message by its trailing newline (RFC 6587).
            { mode: target.transport, address: target.host, port: target.port, reconnect: target.transport === 'tcp' };
      const transport = pino.transport({
        pipeline: [
          { target: 'pino-syslog', options: { enablePipelining: true, modern: true, appname: 'keyupd', newline: target.transport !== 'udp' } },
          { target: 'pino-socket', options: socket },
        ],
      });
      return {
        stream: transport,
        timestamp: 'epoch',
        close: () =>
          new Promise<void>((resolve) => {
            transport.once('close', () => resolve());
            transport.end();
          }),
      };
    }
  }
}
