/**
 * Issue 8's figures for one rotation with IAM answering at once (activation delay 0): how many
 * AWS calls it makes, keyup's CPU time against a bare SDK script's, and a whole `keyupd --once`;
 * and `keyupctl rotate now` asking a running keyupd, beyond the deliberate pauses (budget
 * ≤ 300 ms), against `keyupd --once` doing the same rotation.
 */
import { join } from 'node:path';
import { DEFAULT_IAM_RATE } from '../../src/engine/engine.js';
import { startDaemon, type RunningDaemon } from '../daemon.js';
import { DAY_MS, writeCredentials } from '../fixtures.js';
import { figure, median, ratioTo, type SectionResult } from '../figures.js';
import { BENCH_DIR, cleanEnv, KEYUPCTL, KEYUPCTL_BIN, KEYUPD, parseChildJson, runNode, startEmulatorProcess, withTempDir, type EmulatorProcess } from '../processes.js';
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
 * each of its three successes. verifyNewKey (src/rotation/verify.ts) does not export its
 * defaults; they sit in its destructuring, `consecutive = 3` and `confirmDelayMs = 1_000`, and
 * neither keyupd nor `--once` passes others. A refused attempt would add a backoff pause, which is
 * why each rotation's calls are checked to be the minimum.
 */
const CONFIRMATION_PAUSES_MS = 2 * 1_000;
/** `keyupd --once` and `keyupctl rotate now` each, taking turns. */
const ONCE_RUNS = 5;
const ROTATE_NOW_BUDGET_MS = 300;
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
        context.progress('a keyupd managing one profile, nothing due, for keyupctl rotate now');
        const daemon = await startDaemon({ home: join(dir, 'daemon'), emulator, profiles: 1, userPrefix: 'now-' });
        let once: Awaited<ReturnType<typeof measureOnce>>;
        try {
          once = await measureOnce(emulator, dir, daemon, context);
        } finally {
          await daemon.stop();
        }
        const lessPauses = (samples: readonly number[]) => samples.map((ms) => ms - CONFIRMATION_PAUSES_MS);
        const cpuRatio = ratioTo(cpu.keyup.cpuMs, cpu.sdk.cpuMs, 'the bare SDK script (budget ≤ 1.5×)');
        return {
          title: this.title,
          figures: [
            figure('AWS calls, one rotation (keyupd --once)', 'calls', once.calls, { ratio: median(once.calls) / MINIMUM_CALLS, against: `the minimum, ${MINIMUM_CALLS}` }),
            figure('CPU a rotation, keyup engine, warm process', 'ms', cpu.keyup.cpuMs, cpuRatio),
            figure('CPU a rotation, bare SDK script, same 7 calls', 'ms', cpu.sdk.cpuMs, { against: 'the yardstick' }),
            figure('keyupd --once, one rotation: wall time', 'ms', once.wallMs, { against: `process start included; ${CONFIRMATION_PAUSES_MS.toLocaleString('en-US')} ms of it deliberate pauses` }),
            figure('keyupd --once, one rotation, less the pauses', 'ms', lessPauses(once.wallMs), { against: `wall time less 2 × 1 s of confirmation pauses` }),
            figure('keyupd --once, nothing due: wall time', 'ms', once.idleWallMs, { against: `process start included; ${median(once.idleCalls)} AWS calls` }),
            figure('keyupctl rotate now, one rotation: wall time', 'ms', once.nowWallMs, { against: `keyupctl's process start included; ${CONFIRMATION_PAUSES_MS.toLocaleString('en-US')} ms of it deliberate pauses` }),
            figure('keyupctl rotate now, less the pauses', 'ms', lessPauses(once.nowWallMs), ratioTo(lessPauses(once.nowWallMs), lessPauses(once.wallMs), `keyupd --once less the pauses (budget ≤ ${ROTATE_NOW_BUDGET_MS} ms)`)),
          ],
          notes: [
            `The minimum AWS calls for a rotation is ${MINIMUM_CALLS}: GetCallerIdentity (whose key), ListAccessKeys (its age), CreateAccessKey, 3 × GetCallerIdentity with the new key (seen working three times in a row: IAM is eventually consistent), DeleteAccessKey. keyupd --once made: ${once.actions}.`,
            `CPU a rotation: process.cpuUsage() around each rotation, ${CPU_ROTATIONS} rotations after a warm-up of ${CPU_WARMUP} in each child process, keyup's and the script's children taking turns ${CPU_ROUNDS} times, against one emulator (its own process). keyup's side is the Engine with every default (backups on, IAM paced at ${DEFAULT_IAM_RATE.perSecond}/s) and verification pauses set to 0: sleeps cost no CPU, so the CPU figure is fair where a wall time would not be. Besides the calls, keyup writes its journal durably before CreateAccessKey, after it and at the end (three writes), takes a lock, keeps a history and a backup, and reads and atomically rewrites the credentials file. Of the CPU, the kernel's part (system time): keyup ${median(cpu.keyup.systemMs).toFixed(1)} ms, SDK script ${median(cpu.sdk.systemMs).toFixed(1)} ms. Wall a rotation, for reference: keyup ${median(cpu.keyup.wallMs).toFixed(1)} ms, SDK script ${median(cpu.sdk.wallMs).toFixed(1)} ms.`,
            `keyupd --once: ${ONCE_RUNS} runs of dist/src/bin/keyupd.js, each in a fresh HOME holding one 100-day-old key, then a second run in the same HOME (nothing due). The deliberate pauses are verification's 1 s between each of its three successes (verifyNewKey's defaults in src/rotation/verify.ts, not exported: consecutive = 3, confirmDelayMs = 1_000).`,
            `keyupctl rotate now: ${KEYUPCTL_BIN} rotate now, whole process, asking a keyupd started before (its own process, one profile, its start-up check over and its SDK loaded), ${ONCE_RUNS} rotations of the same profile taking turns with the keyupd --once runs, after one untimed (keyupd's first rotation since it started: ${once.firstNowMs.toFixed(0)} ms). Each made the minimum (checked, so no refusal added a backoff pause): ${once.nowActions}. Where the time goes, medians by the emulator's clock (ms steps): ${median(once.nowPhases.before).toFixed(0)} ms from keyupctl's spawn to the first AWS call (keyupctl starting and asking, keyupd reading the files and taking the lock), ${median(once.nowPhases.calls).toFixed(0)} ms from the first call to the last (${CONFIRMATION_PAUSES_MS.toLocaleString('en-US')} ms of it the pauses; the rest the calls, the journal and the credentials file), ${median(once.nowPhases.after).toFixed(0)} ms from the last call to keyupctl's exit.`,
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

/**
 * `keyupd --once` rotating a due key in a fresh HOME, then again with nothing due, then
 * `keyupctl rotate now` asking `daemon`; taking turns, so that a busy spell of the machine weighs
 * on both ways alike.
 */
async function measureOnce(emulator: EmulatorProcess, dir: string, daemon: RunningDaemon, context: BenchContext) {
  const calls: number[] = [];
  const wallMs: number[] = [];
  const idleWallMs: number[] = [];
  const idleCalls: number[] = [];
  let actions = '';
  const nowWallMs: number[] = [];
  /** Where a rotate now's time goes, by the emulator's clock (ms): before its first AWS call, between its first and last (pauses included), after. */
  const nowPhases = { before: [] as number[], calls: [] as number[], after: [] as number[] };
  let nowActions = '';
  const rotateNow = async () => {
    await emulator.control.clearCallLog();
    const spawnedAt = Date.now();
    const run = await runNode([KEYUPCTL, 'rotate', 'now'], { env: daemon.ctlEnv });
    if (run.code !== 0 || !run.stdout.includes(': rotated ')) throw new Error(`keyupctl rotate now did not rotate (exit ${run.code}):\n${run.stdout}${run.stderr}`);
    const log = await emulator.control.getCallLog();
    if (log.length !== MINIMUM_CALLS) throw new Error(`keyupctl rotate now made ${log.length} AWS calls, not ${MINIMUM_CALLS}, so its pauses were not 2 × 1 s: ${summarizeActions(log.map((entry) => entry.action ?? '?'))}`);
    const firstCall = Date.parse(log[0]?.time ?? '') - spawnedAt;
    const lastCall = Date.parse(log.at(-1)?.time ?? '') - spawnedAt;
    return { run, log, phases: { before: firstCall, calls: lastCall - firstCall, after: run.wallMs - lastCall } };
  };
  context.progress('keyupctl rotate now: one untimed');
  const first = await rotateNow();
  for (let index = 0; index < ONCE_RUNS; index++) {
    context.progress(`keyupd --once, one rotation, and keyupctl rotate now: run ${index + 1} of ${ONCE_RUNS}`);
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

    const now = await rotateNow();
    nowWallMs.push(now.run.wallMs);
    nowActions = summarizeActions(now.log.map((entry) => entry.action ?? '?'));
    nowPhases.before.push(now.phases.before);
    nowPhases.calls.push(now.phases.calls);
    nowPhases.after.push(now.phases.after);
  }
  return { calls, wallMs, idleWallMs, idleCalls, actions, nowWallMs, nowActions, nowPhases, firstNowMs: first.run.wallMs };
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
