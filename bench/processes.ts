/**
 * Child processes for the benchmarks: the built programs, a clean environment for each, the
 * emulator in a process of its own, and a run's wall time and peak memory.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../emulator/control-client.js';

/** `dist/`, where `npm run build` put the programs this file was compiled beside. */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
export const KEYUPD = join(DIST, 'src', 'bin', 'keyupd.js');
/** keyupctl as npm installs it: package.json's `bin` (one CommonJS bundle, tools/bundle-keyupctl.mjs). */
export const KEYUPCTL_BIN = readPackageBin('keyupctl');
export const KEYUPCTL = join(DIST, '..', KEYUPCTL_BIN);
/** keyupctl's ES modules, as tsc left them and the bundle was made from. */
export const KEYUPCTL_MODULES = join(DIST, 'src', 'bin', 'keyupctl.js');
export const EMULATOR = join(DIST, 'emulator', 'bin', 'keyup-emulator.js');
export const BENCH_DIR = join(DIST, 'bench');

export type ChildEnv = Record<string, string>;

/** The path package.json's `bin` gives a program, relative to the package. */
function readPackageBin(name: string): string {
  const { bin } = JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  const path = bin?.[name];
  if (path === undefined) throw new Error(`package.json has no bin ${name}`);
  return path;
}

/**
 * PATH, HOME and what the child is given, nothing else: a NODE_OPTIONS, NODE_EXTRA_CA_CERTS or
 * AWS_* of the person running the bench would change what is measured.
 */
export function cleanEnv(home: string, extra: ChildEnv = {}): ChildEnv {
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: home, ...extra };
}

/** A fresh folder under the system's temp folder, removed after `work` whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface EmulatorProcess {
  readonly endpoint: string;
  readonly control: ControlClient;
  /** The environment variables that send keyup's and the SDK's calls to it. */
  readonly awsEnv: ChildEnv;
  stop(): Promise<void>;
}

/**
 * `keyup-emulator --port 0 …flags` in its own process, so that its work is not counted in what
 * the bench measures, and ready once it has printed its endpoint.
 */
export async function startEmulatorProcess(home: string, flags: readonly string[] = []): Promise<EmulatorProcess> {
  const child = spawn(process.execPath, [EMULATOR, '--port', '0', ...flags], { env: cleanEnv(home), stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  let endpoint: string | undefined;
  for await (const line of lines) {
    endpoint = (JSON.parse(line) as { endpoint: string }).endpoint;
    break;
  }
  lines.close();
  if (endpoint === undefined) throw new Error(`keyup-emulator ${flags.join(' ')} exited before it was ready`);
  return {
    endpoint,
    control: new ControlClient({ endpoint }),
    awsEnv: { AWS_ENDPOINT_URL_IAM: endpoint, AWS_ENDPOINT_URL_STS: endpoint },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface NodeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** From just before the spawn to the process's exit: process start included. */
  readonly wallMs: number;
  /** The largest VmHWM seen in /proc/PID/status (Linux), when asked to watch it. */
  readonly peakRssMiB?: number;
}

export interface RunNodeInit {
  env: ChildEnv;
  /** Poll the child's peak resident memory this often (ms); Linux only. */
  watchMemoryMs?: number;
}

/** `node …args` with exactly `env`, to its end. */
export async function runNode(args: readonly string[], { env, watchMemoryMs }: RunNodeInit): Promise<NodeRun> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let peakKiB: number | undefined;
  let watching: Promise<void> = Promise.resolve();
  const timer =
    watchMemoryMs === undefined || child.pid === undefined
      ? undefined
      : setInterval(() => {
          // VmHWM is the kernel's own high-water mark, so a peak between two polls is not missed;
          // only growth in the last interval before exit could be.
          watching = watching.then(async () => {
            const kib = await readPeakKiB(child.pid as number);
            if (kib !== undefined) peakKiB = Math.max(peakKiB ?? 0, kib);
          });
        }, watchMemoryMs);
  const [code, wallMs] = await new Promise<[number | null, number]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve([exitCode, performance.now() - start]));
  });
  if (timer !== undefined) clearInterval(timer);
  await watching;
  // The output may still be arriving after the exit.
  await new Promise((resolve) => (child.stdout.readableEnded ? resolve(undefined) : child.stdout.once('end', resolve)));
  await new Promise((resolve) => (child.stderr.readableEnded ? resolve(undefined) : child.stderr.once('end', resolve)));
  return { code, stdout, stderr, wallMs, ...(peakKiB === undefined ? {} : { peakRssMiB: peakKiB / 1024 }) };
}

async function readPeakKiB(pid: number): Promise<number | undefined> {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    // Gone already, or not Linux.
    return undefined;
  }
}

/** A child's one JSON line of results, or an error that shows what it said instead. */
export function parseChildJson<T>(run: NodeRun, what: string): T {
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    if (run.code !== 0) throw new Error(`exit code ${run.code}`);
    return JSON.parse(line) as T;
  } catch (error) {
    throw new Error(`${what} failed (${error instanceof Error ? error.message : String(error)}):\n${run.stderr.trim()}\n${run.stdout.trim()}`);
  }
}
