/**
 * A real keyupd for the sections that need one running: in a HOME of its own, managing profiles
 * whose keys are young enough that nothing is due, against an emulator in another process. Once
 * its start-up check is over it stays idle until asked something.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DAY_MS, writeCredentials, writeKeyupConfig, type SeededKey } from './fixtures.js';
import { cleanEnv, KEYUPD, type ChildEnv, type EmulatorProcess } from './processes.js';

/** Well below max_age_days (90): the start-up check looks, and rotates nothing. */
const YOUNG_KEY_DAYS = 10;
const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 15_000;
const POLL_MS = 50;

export interface DaemonInit {
  /** A fresh folder; short, because the socket's path under it has a limit of about 104 bytes. */
  readonly home: string;
  readonly emulator: EmulatorProcess;
  readonly profiles: number;
  /** IAM user names are `${userPrefix}${index}`: unique in the emulator. */
  readonly userPrefix: string;
  /** Node's own flags for keyupd, to look for a cost (`--cpu-prof`); none in the figures. */
  readonly nodeArgs?: readonly string[];
}

export interface RunningDaemon {
  readonly pid: number;
  readonly profiles: readonly string[];
  /** keyupctl's environment: PATH, HOME and XDG_RUNTIME_DIR (where the socket is), nothing else. */
  readonly ctlEnv: ChildEnv;
  /** The JSON lines it logged, parsed. */
  logs(): Record<string, unknown>[];
  /** SIGTERM, and its exit (SIGKILL if it does not exit in time). */
  stop(): Promise<void>;
}

/**
 * Seeds one IAM user with a 10-day-old key per profile, writes `~/.aws/credentials` and a keyup
 * config managing them all, starts `keyupd` (no flags, log on stdout), and resolves once its
 * start-up check is over: an outcome logged for every profile and `daemon.json` saved with that
 * check's time.
 */
export async function startDaemon({ home, emulator, profiles: count, userPrefix, nodeArgs = [] }: DaemonInit): Promise<RunningDaemon> {
  const keys = new Map<string, SeededKey>();
  const createDate = new Date(Date.now() - YOUNG_KEY_DAYS * DAY_MS).toISOString();
  for (let index = 0; index < count; index++) {
    const userName = `${userPrefix}${index}`;
    await emulator.control.createUser({ userName });
    keys.set(`p${index}`, await emulator.control.createAccessKey({ userName, createDate }));
  }
  await writeCredentials(home, keys);
  await writeKeyupConfig(home, [...keys.keys()]);
  // As systemd makes it for a logged-in user: keyupd makes only its own folder inside.
  const runtimeDir = join(home, 'run');
  await mkdir(runtimeDir, { recursive: true, mode: 0o700 });
  const ctlEnv = cleanEnv(home, { XDG_RUNTIME_DIR: runtimeDir });

  const child = spawn(process.execPath, [...nodeArgs, KEYUPD], { env: { ...ctlEnv, ...emulator.awsEnv }, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  const logs = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const stop = async () => {
    if (ended) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
    await exited;
    clearTimeout(timer);
  };

  const profiles = [...keys.keys()];
  const stateFile = join(home, '.local', 'state', 'keyup', 'daemon.json');
  const deadline = Date.now() + START_DEADLINE_MS;
  try {
    for (;;) {
      if (ended || child.pid === undefined) throw new Error(`keyupd exited before its start-up check was over:\n${stderr}${stdout}`);
      const checked = new Set(logs().flatMap((line) => (typeof line.outcome === 'string' && typeof line.profile === 'string' ? [line.profile] : [])));
      if (profiles.every((profile) => checked.has(profile)) && (await readLastCheck(stateFile)) !== null) break;
      if (Date.now() > deadline) throw new Error(`keyupd's start-up check was not over after ${START_DEADLINE_MS / 1000} s:\n${stderr}${stdout}`);
      await sleep(POLL_MS);
    }
    const rotated = logs().filter((line) => line.outcome !== undefined && line.outcome !== 'current');
    if (rotated.length > 0) throw new Error(`keyupd's start-up check did more than look: ${JSON.stringify(rotated)}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid, profiles, ctlEnv, logs, stop };
}

async function readLastCheck(file: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { lastCheck?: string | null }).lastCheck ?? null;
  } catch {
    // Not written yet, or being replaced.
    return null;
  }
}
