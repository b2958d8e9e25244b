import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { startSocketServer, type SocketHandlers, type SocketServer } from '../../src/ipc/server.js';
import type { StatusDocument } from '../../src/ipc/protocol.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

export interface CtlRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CtlScene {
  readonly home: TempHome;
  /** Where keyupctl looks by default in this home: `$XDG_RUNTIME_DIR/keyup/keyupd.sock`. */
  readonly socketPath: string;
  /** Serves `handlers` at the default socket until the test ends. */
  startDaemon(handlers: SocketHandlers): Promise<SocketServer>;
  /** Runs the built keyupctl with `args` to its end (within a deadline). */
  run(args: readonly string[], init?: { env?: Record<string, string>; timeoutMs?: number }): Promise<CtlRun>;
}

/**
 * A temp HOME with a short path (a Unix socket path may hold only about 104 bytes) and the built
 * keyupctl, run as a child process in it: never the real HOME, never the real socket. TZ is UTC
 * so that the local times keyupctl prints are the same everywhere.
 */
export async function createCtlScene(buildDir: string): Promise<CtlScene> {
  const home = await createTempHome('kc-');
  const socketPath = join(home.dir, 'run', 'keyup', 'keyupd.sock');
  const servers: SocketServer[] = [];
  onTestFinished(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await home.remove();
  });
  const baseEnv = { ...home.env, PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' };
  return {
    home,
    socketPath,
    async startDaemon(handlers) {
      const server = await startSocketServer({ path: socketPath, handlers, closeGraceMs: 100 });
      servers.push(server);
      return server;
    },
    run: (args, { env = {}, timeoutMs } = {}) => runKeyupctl(buildDir, args, { env: { ...baseEnv, ...env }, cwd: home.dir, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
  };
}

/** Runs the built keyupctl with `args` and exactly `env` to its end, within a deadline. */
export function runKeyupctl(buildDir: string, args: readonly string[], { env, cwd, timeoutMs = 20_000 }: { env: Record<string, string>; cwd: string; timeoutMs?: number }): Promise<CtlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(buildDir, 'src', 'bin', 'keyupctl.cjs'), ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`keyupctl ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export const NOW = new Date('2026-11-24T10:00:00Z');

/** SPEC's status document, with a profile in each state worth showing. */
export function makeStatus(overrides: Partial<StatusDocument> = {}): StatusDocument {
  const base = {
    max_age_days: 90,
    warn_age_days: 80,
    deferred_by: null,
    deferred_until: null,
    last_rotation: null,
    last_checked: '2026-11-24T07:00:00Z',
    error: null,
  } as const;
  return {
    version: '1.0.0',
    pid: 4242,
    started: '2026-11-24T07:00:00Z',
    schedule: '0 7 * * *',
    next_check: '2026-11-25T07:00:00Z',
    config_error: null,
    waiting_for_network: false,
    profiles: [
      {
        ...base,
        profile: 'default',
        user: 'alice',
        account: '123456789012',
        key_id: 'AKIAIOSFODNN7EXAMPLE',
        key_created: '2026-10-01T09:00:00Z',
        key_age_days: 54.2,
        state: 'ok',
        last_rotation: { at: '2026-10-01T09:00:00Z', old_key_id: 'AKIAOLDOLDOLDOLD1234', new_key_id: 'AKIAIOSFODNN7EXAMPLE', ok: true },
      },
      {
        ...base,
        profile: 'ci-bot',
        user: 'ci',
        account: '123456789012',
        key_id: 'AKIACIBOTCIBOTCI9999',
        key_created: '2026-08-01T09:00:00Z',
        key_age_days: 115,
        state: 'deferred',
        deferred_by: 'session',
        deferred_until: '2026-11-24T14:00:00Z',
      },
      {
        ...base,
        profile: 'broken',
        user: null,
        account: null,
        key_id: null,
        key_created: null,
        key_age_days: null,
        state: 'error',
        error: { code: 'key-invalid', message: 'The key AKIA…0000 in profile broken is not valid: AWS does not accept it.', hint: 'Put a working access key in profile broken.' },
      },
    ],
    ...overrides,
  };
}
