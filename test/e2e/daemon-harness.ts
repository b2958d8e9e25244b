import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions, type SeededAccessKey } from '../../emulator/index.js';
import { request } from '../../src/ipc/client.js';
import type { Method, StatusDocument } from '../../src/ipc/protocol.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import { createTempHome, readTree, type TempHome } from '../support/temp-home.js';
import { daysAgo } from '../support/time.js';
import { waitFor } from './keyupd.js';

/** One keyupd process of a scene. */
export interface DaemonRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its log: one JSON object per stdout line (`log = stdout`, not a terminal). */
  logs(): Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  /** Waits for a log line whose message matches, with a deadline; fails at once if keyupd exits. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface DaemonScene {
  readonly emulator: Emulator;
  readonly home: TempHome;
  readonly paths: KeyupPaths;
  /** The environment keyupd runs with: only the temp HOME, the emulator and PATH. */
  readonly env: Record<string, string>;
  /** alice's key in `[default]` at the start. */
  readonly old: SeededAccessKey;
  start(args?: string[], env?: Record<string, string>): DaemonRun;
  /** A socket request as keyupctl makes it. */
  call<T>(method: Method, params?: unknown, onNotification?: (method: string, params: unknown) => void): Promise<T>;
  /** Asks status until `check` holds, with a deadline; fails at once if `run` exits. */
  waitForStatus(what: string, check: (status: StatusDocument) => boolean, run: DaemonRun, timeoutMs?: number): Promise<StatusDocument>;
  writeConfig(lines: string[]): Promise<void>;
  readCredentials(): Promise<string>;
  aliceKeys(): { accessKeyId: string; secretAccessKey: string; status: string }[];
  /** Every file under the state folder, with its contents. */
  readStateFiles(): Promise<Map<string, string>>;
}

export interface DaemonSceneInit {
  buildDir: string;
  emulator?: EmulatorOptions;
  /** Lines of keyup's config file; none: no file. */
  config?: string[];
  ageDays?: number;
  /** Where keyupd sends IAM and STS (a proxy, a closed port); default the emulator. */
  endpoint?: string;
}

/**
 * One emulator, a temp HOME whose `[default]` holds alice's key of `ageDays`, and keyupd
 * processes started in it. Everything is stopped and removed when the test ends.
 */
export async function createDaemonScene({ buildDir, emulator: options = {}, config, ageDays = 100, endpoint }: DaemonSceneInit): Promise<DaemonScene> {
  const unexpected: unknown[] = [];
  const emulator = await startEmulator({ ...options, onUnexpectedError: (error) => unexpected.push(error) });
  // Short: a Unix socket's path has a limit of about 104 bytes.
  const home = await createTempHome('kd-');
  const runs: DaemonRun[] = [];
  onTestFinished(async () => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await Promise.all(runs.map((run) => run.exited));
    await emulator.stop();
    await home.remove();
    if (unexpected.length > 0) throw new Error(`the emulator failed inside: ${String(unexpected[0])}`);
  });
  const paths = resolvePaths({ env: home.env, home: home.dir });
  emulator.createUser({ userName: 'alice' });
  const old = emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(ageDays) });
  await fs.mkdir(dirname(paths.credentialsFile), { recursive: true, mode: 0o700 });
  await fs.writeFile(paths.credentialsFile, `# mine\n[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`, { mode: 0o600 });
  const writeConfig = async (lines: string[]) => {
    await fs.mkdir(dirname(paths.keyupConfigFile), { recursive: true, mode: 0o700 });
    await fs.writeFile(paths.keyupConfigFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  };
  if (config !== undefined) await writeConfig(config);
  await fs.mkdir(home.env.XDG_RUNTIME_DIR ?? join(home.dir, 'run'), { recursive: true, mode: 0o700 });
  const env: Record<string, string> = {
    ...home.env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ENDPOINT_URL_IAM: endpoint ?? emulator.endpoint,
    AWS_ENDPOINT_URL_STS: endpoint ?? emulator.endpoint,
    AWS_REGION: 'us-east-1',
  };

  const call = <T>(method: Method, params?: unknown, onNotification?: (method: string, params: unknown) => void) =>
    request(paths.socketFile, method, params, { timeoutMs: 30_000, ...(onNotification === undefined ? {} : { onNotification }) }) as Promise<T>;

  return {
    emulator,
    home,
    paths,
    env,
    old,
    start(args = [], extraEnv = {}) {
      const child = spawn(process.execPath, [join(buildDir, 'src', 'bin', 'keyupd.js'), ...args], { env: { ...env, ...extraEnv }, cwd: home.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      const logs = () =>
        stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const run: DaemonRun = {
        child,
        exited,
        logs,
        stdout: () => stdout,
        stderr: () => stderr,
        waitForLog: (pattern, timeoutMs = 20_000) =>
          waitFor(`a log line matching ${pattern}`, () => logs().find((line) => typeof line.msg === 'string' && pattern.test(line.msg)), { timeoutMs, run }),
      };
      runs.push(run);
      return run;
    },
    call,
    waitForStatus: (what, check, run, timeoutMs = 20_000) =>
      waitFor(
        what,
        async () => {
          // No answer yet (the socket is not up, or keyupd is busy starting): ask again.
          const status = await call<StatusDocument>('status').catch(() => undefined);
          return status !== undefined && check(status) ? status : undefined;
        },
        { timeoutMs, run },
      ),
    writeConfig,
    readCredentials: () => fs.readFile(paths.credentialsFile, 'utf8'),
    aliceKeys: () => emulator.getState().accessKeys.filter((key) => key.userName === 'alice'),
    readStateFiles: () => readTree(paths.stateDir),
  };
}
