import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions, type SeededAccessKey } from '../../emulator/index.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import { createTempHome, readTree, type TempHome } from '../support/temp-home.js';
import { daysAgo } from '../support/time.js';

// crash.test.ts takes DAY_MS from here.
export { DAY_MS } from '../support/time.js';

interface Key {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * A hand-kept credentials file: comments, odd spacing and a profile keyup does not manage around
 * `[default]`. Rendering it again with the new key gives the exact bytes a rotation may produce.
 */
export function credentialsText(key: Key, other: Key): string {
  return [
    '# my AWS keys — written by hand, keyup may touch only [default]',
    '',
    '[work]    ; bob, not managed by keyup',
    `aws_access_key_id = ${other.accessKeyId}`,
    `aws_secret_access_key = ${other.secretAccessKey}`,
    'region = eu-west-1',
    '',
    '[default]',
    '# rotated by keyup',
    `aws_access_key_id=${key.accessKeyId}`,
    `aws_secret_access_key   =  ${key.secretAccessKey}`,
    'output = json',
    '',
  ].join('\n');
}

/** The key of `[default]` as the file holds it now. */
export function defaultKeyOf(text: string): Key {
  const section = /^\[default\]\n([^[]*)/m.exec(text)?.[1] ?? '';
  const value = (name: string) => new RegExp(`^${name}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(section)?.[1];
  const accessKeyId = value('aws_access_key_id');
  const secretAccessKey = value('aws_secret_access_key');
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error(`no key in [default] of:\n${text}`);
  return { accessKeyId, secretAccessKey };
}

export interface KeyupdRun {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** Polls `check` until it answers something other than undefined or false; a deadline, never a fixed sleep. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, { timeoutMs = 15_000, run }: { timeoutMs?: number; run?: KeyupdRun } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    // A child that ended on its own will never reach the moment: say why at once.
    if (run !== undefined && run.child.exitCode !== null) {
      throw new Error(`keyupd exited ${run.child.exitCode} before ${what}\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Scene {
  readonly emulator: Emulator;
  readonly home: TempHome;
  readonly paths: KeyupPaths;
  /** alice's key in `[default]` before any run. */
  readonly old: SeededAccessKey;
  /** bob's key in `[work]`, which keyup must leave alone. */
  readonly bob: SeededAccessKey;
  readonly original: string;
  readonly journalFile: string;
  /** The lock of alice's old key, which a rotation of it holds. */
  readonly lockFile: string;
  readonly logFile: string;
  /** Every keyupd started in this scene, killed or not. */
  readonly runs: KeyupdRun[];
  /** Every secret alice's keys have had so far (old, new, orphans), refreshed by `snapshotSecrets`. */
  readonly aliceSecrets: Set<string>;
  snapshotSecrets(): void;
  start(): KeyupdRun;
  /** The journal's step, or undefined when there is none. */
  journalStep(): Promise<string | undefined>;
  exists(path: string): Promise<boolean>;
  aliceKeys(): { accessKeyId: string; secretAccessKey: string; status: string }[];
  /** Every file under the state folder, with its contents. */
  readStateFiles(): Promise<Map<string, string>>;
}

export interface SceneInit {
  buildDir: string;
  emulator?: EmulatorOptions;
  /** Extra lines for the `[keyup]` section of keyup's config. */
  config?: string[];
  ageDays?: number;
}

/**
 * One emulator, one temp HOME and one due key per test: alice's key in `[default]`, bob's in
 * `[work]`, and a keyup config that logs to a file so the log can be searched for secrets.
 */
export async function createScene({ buildDir, emulator: options = {}, config = [], ageDays = 100 }: SceneInit): Promise<Scene> {
  const unexpected: unknown[] = [];
  const emulator = await startEmulator({ ...options, onUnexpectedError: (error) => unexpected.push(error) });
  const home = await createTempHome('keyup-e2e-');
  const runs: KeyupdRun[] = [];
  onTestFinished(async () => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await Promise.all(runs.map((run) => run.exited));
    await emulator.stop();
    await home.remove();
    if (unexpected.length > 0) throw new Error(`the emulator failed inside: ${String(unexpected[0])}`);
  });

  const paths = resolvePaths({ env: home.env, home: home.dir });
  emulator.createUser({ userName: 'alice' });
  emulator.createUser({ userName: 'bob' });
  const old = emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(ageDays) });
  const bob = emulator.createAccessKey({ userName: 'bob', createDate: daysAgo(3) });
  const original = credentialsText(old, bob);
  await fs.mkdir(dirname(paths.credentialsFile), { recursive: true, mode: 0o700 });
  await fs.writeFile(paths.credentialsFile, original, { mode: 0o600 });
  await fs.mkdir(dirname(paths.keyupConfigFile), { recursive: true, mode: 0o700 });
  await fs.writeFile(paths.keyupConfigFile, ['# keyup, as a cron user would set it up', '[keyup]', 'log = file', 'log_level = debug', ...config, ''].join('\n'), { mode: 0o600 });

  // Only the temp home and the emulator: never the real HOME, never real AWS variables.
  const childEnv: Record<string, string> = {
    ...home.env,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ENDPOINT_URL_IAM: emulator.endpoint,
    AWS_ENDPOINT_URL_STS: emulator.endpoint,
    AWS_REGION: 'us-east-1',
  };
  const aliceKeys = () => emulator.getState().accessKeys.filter((key) => key.userName === 'alice');
  const aliceSecrets = new Set([old.secretAccessKey]);
  const exists = (path: string) =>
    fs.access(path).then(
      () => true,
      () => false,
    );
  const journalFile = join(paths.stateDir, 'journal', 'default.json');

  return {
    emulator,
    home,
    paths,
    old,
    bob,
    original,
    journalFile,
    lockFile: join(paths.stateDir, 'locks', `${old.accessKeyId}.lock`),
    logFile: join(paths.stateDir, 'keyupd.log'),
    runs,
    aliceSecrets,
    snapshotSecrets() {
      for (const key of aliceKeys()) aliceSecrets.add(key.secretAccessKey);
    },
    start() {
      const child = spawn(process.execPath, [join(buildDir, 'src', 'bin', 'keyupd.js'), '--once'], { env: childEnv, cwd: home.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      // 'close', not 'exit': the output is complete and the process reaped (a zombie's pid still answers signal 0).
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      const run: KeyupdRun = { child, exited, stdout: () => stdout, stderr: () => stderr };
      runs.push(run);
      return run;
    },
    async journalStep() {
      try {
        return (JSON.parse(await fs.readFile(journalFile, 'utf8')) as { step: string }).step;
      } catch {
        return undefined;
      }
    },
    exists,
    aliceKeys,
    readStateFiles: () => readTree(paths.stateDir),
  };
}

/** Runs keyupd to its end within a deadline. */
export async function finish(run: KeyupdRun, timeoutMs = 25_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`keyupd did not finish within ${timeoutMs} ms\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** kill -9, and wait until the process is gone and reaped. */
export async function killHard(run: KeyupdRun): Promise<void> {
  run.child.kill('SIGKILL');
  const { signal } = await run.exited;
  if (signal !== 'SIGKILL') throw new Error(`keyupd ended before it was killed\nstdout: ${run.stdout()}\nstderr: ${run.stderr()}`);
}
