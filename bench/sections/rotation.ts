/**
 * Issue 8's figures for one rotation with IAM answering at once (activation delay 0): how many
 * AWS calls it makes, keyup's CPU time against a bare SDK script's, and a whole `keyupd --once`.
 */
import { join } from 'node:path';
import { DEFAULT_IAM_RATE } from '../../src/engine/engine.js';
import { DAY_MS, writeCredentials } from '../fixtures.js';
import { figure, median, ratioTo, type SectionResult } from '../figures.js';
import { BENCH_DIR, cleanEnv, KEYUPD, parseChildJson, runNode, startEmulatorProcess, withTempDir, type EmulatorProcess } from '../processes.js';
import type { BenchContext, Section } from '../section.js';
import type { LoopResult } from '../children/rotation-loop.js';

/**
 * GetCallerIdentity (whose key), ListAccessKeys (its age), CreateAccessKey, 3 × GetCallerIdentity
 * with the new key (IAM is eventually consistent: seen working three times in a row),
 * DeleteAccessKey.
 */
const MINIMUM_CALLS = 7;
/**
 * What verification sleeps on purpose when IAM accepts the new key at once: the pause between
 * each of its three successes, by verifyNewKey's defaults (consecutive 3, confirmDelayMs 1 s).
 */
const CONFIRMATION_PAUSES_MS = 2 * 1_000;
const ONCE_RUNS = 5;
/** Rotations measured in each child; the children take turns, so a busy spell of the machine weighs on both. */
const CPU_ROTATIONS = 10;
const CPU_ROUNDS = 2;
const CPU_WARMUP = 3;

export const rotationSection: Section = {
  title: 'One rotation, activation delay 0',
  async run(context: BenchContext): Promise<SectionResult> {
    return withTempDir('keyup-bench-rotation-', async (dir) => {
      const emulator = await startEmulatorProcess(dir, ['--activation-delay-ms', '0']);
      try {
        const cpu = await measureCpu(emulator, dir, context);
        const once = await measureOnce(emulator, dir, context);
        const cpuRatio = ratioTo(cpu.keyup.cpuMs, cpu.sdk.cpuMs, 'the bare SDK script (budget ≤ 1.5×)');
        return {
          title: this.title,
          figures: [
            figure('AWS calls, one rotation (keyupd --once)', 'calls', once.calls, { ratio: median(once.calls) / MINIMUM_CALLS, against: `the minimum, ${MINIMUM_CALLS}` }),
            figure('CPU a rotation, keyup engine, warm process', 'ms', cpu.keyup.cpuMs, cpuRatio),
            figure('CPU a rotation, bare SDK script, same 7 calls', 'ms', cpu.sdk.cpuMs, { against: 'the yardstick' }),
            figure('keyupd --once, one rotation: wall time', 'ms', once.wallMs, { against: `process start included; ${CONFIRMATION_PAUSES_MS.toLocaleString('en-US')} ms of it deliberate pauses` }),
            figure('keyupd --once, one rotation, less the pauses', 'ms', once.wallMs.map((ms) => ms - CONFIRMATION_PAUSES_MS), { against: `wall time less 2 × 1 s of confirmation pauses` }),
            figure('keyupd --once, nothing due: wall time', 'ms', once.idleWallMs, { against: `process start included; ${median(once.idleCalls)} AWS calls` }),
          ],
          notes: [
            `The minimum AWS calls for a rotation is ${MINIMUM_CALLS}: GetCallerIdentity (whose key), ListAccessKeys (its age), CreateAccessKey, 3 × GetCallerIdentity with the new key (seen working three times in a row: IAM is eventually consistent), DeleteAccessKey. keyupd --once made: ${once.actions}.`,
            `CPU a rotation: process.cpuUsage() around each rotation, ${CPU_ROTATIONS} rotations after a warm-up of ${CPU_WARMUP} in each child process, keyup's and the script's children taking turns ${CPU_ROUNDS} times, against one emulator (its own process). keyup's side is the Engine with every default (backups on, IAM paced at ${DEFAULT_IAM_RATE.perSecond}/s) and verification pauses set to 0: sleeps cost no CPU, so the CPU figure is fair where a wall time would not be. Besides the calls, keyup writes a journal durably at each step, takes a lock, keeps a history and a backup, and reads and atomically rewrites the credentials file. Of the CPU, the kernel's part (system time): keyup ${median(cpu.keyup.systemMs).toFixed(1)} ms, SDK script ${median(cpu.sdk.systemMs).toFixed(1)} ms. Wall a rotation, for reference: keyup ${median(cpu.keyup.wallMs).toFixed(1)} ms, SDK script ${median(cpu.sdk.wallMs).toFixed(1)} ms.`,
            `keyupd --once: ${ONCE_RUNS} runs of dist/src/bin/keyupd.js, each in a fresh HOME holding one 100-day-old key, then a second run in the same HOME (nothing due). The deliberate pauses are verification's 1 s between each of its three successes.`,
            ...cpu.failures,
          ],
        };
      } finally {
        await emulator.stop();
      }
    });
  },
};

async function measureCpu(emulator: EmulatorProcess, dir: string, context: BenchContext) {
  const run = async (script: string, what: string, round: number): Promise<LoopResult> => {
    context.progress(`CPU a rotation: ${what}, ${CPU_WARMUP} + ${CPU_ROTATIONS} rotations (round ${round + 1} of ${CPU_ROUNDS})`);
    const userName = `cpu-${script.replace(/\.js$/, '')}-${round}`;
    const args = [join(BENCH_DIR, 'children', script), '--endpoint', emulator.endpoint, '--user', userName, '--rotations', String(CPU_ROTATIONS), '--warmup', String(CPU_WARMUP)];
    return parseChildJson<LoopResult>(await runNode(args, { env: cleanEnv(dir) }), what);
  };
  const keyupRuns: LoopResult[] = [];
  const sdkRuns: LoopResult[] = [];
  for (let round = 0; round < CPU_ROUNDS; round++) {
    keyupRuns.push(await run('keyup-rotations.js', 'keyup engine', round));
    sdkRuns.push(await run('sdk-rotations.js', 'bare SDK script', round));
  }
  const keyup = mergeLoops(keyupRuns);
  const sdk = mergeLoops(sdkRuns);
  const failures = [...keyup.failures.map((text) => `keyup rotation failed: ${text}`), ...sdk.failures.map((text) => `SDK script rotation failed: ${text}`)];
  return { keyup, sdk, failures };
}

async function measureOnce(emulator: EmulatorProcess, dir: string, context: BenchContext) {
  const calls: number[] = [];
  const wallMs: number[] = [];
  const idleWallMs: number[] = [];
  const idleCalls: number[] = [];
  let actions = '';
  for (let index = 0; index < ONCE_RUNS; index++) {
    context.progress(`keyupd --once, one rotation: run ${index + 1} of ${ONCE_RUNS}`);
    const home = join(dir, `once-${index}`);
    const userName = `once-${index}`;
    await emulator.control.createUser({ userName });
    const key = await emulator.control.createAccessKey({ userName, createDate: new Date(Date.now() - 100 * DAY_MS).toISOString() });
    await writeCredentials(home, new Map([['default', key]]));
    const env = cleanEnv(home, emulator.awsEnv);

    await emulator.control.clearCallLog();
    const rotation = await runNode([KEYUPD, '--once'], { env });
    if (rotation.code !== 0 || !rotation.stdout.includes(': rotated ')) throw new Error(`keyupd --once did not rotate (exit ${rotation.code}):\n${rotation.stdout}${rotation.stderr}`);
    const log = await emulator.control.getCallLog();
    wallMs.push(rotation.wallMs);
    calls.push(log.length);
    actions = summarizeActions(log.map((entry) => entry.action ?? '?'));

    await emulator.control.clearCallLog();
    const idle = await runNode([KEYUPD, '--once'], { env });
    if (idle.code !== 0) throw new Error(`keyupd --once with nothing due failed (exit ${idle.code}):\n${idle.stdout}${idle.stderr}`);
    idleWallMs.push(idle.wallMs);
    idleCalls.push((await emulator.control.getCallLog()).length);
  }
  return { calls, wallMs, idleWallMs, idleCalls, actions };
}

function mergeLoops(runs: readonly LoopResult[]): LoopResult {
  return {
    cpuMs: runs.flatMap((run) => run.cpuMs),
    systemMs: runs.flatMap((run) => run.systemMs),
    wallMs: runs.flatMap((run) => run.wallMs),
    failures: runs.flatMap((run) => run.failures),
  };
}

/** "GetCallerIdentity, ListAccessKeys, 3 × GetCallerIdentity": runs of one action counted. */
export function summarizeActions(actions: readonly string[]): string {
  const runs: { action: string; count: number }[] = [];
  for (const action of actions) {
    const last = runs.at(-1);
    if (last?.action === action) last.count++;
    else runs.push({ action, count: 1 });
  }
  return runs.map(({ action, count }) => (count === 1 ? action : `${count} × ${action}`)).join(', ');
}
