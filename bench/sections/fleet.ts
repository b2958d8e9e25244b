/**
 * Issue 11: 200 managed profiles due at once, in one `keyupd --once`, against an emulator that
 * throttles IAM at the rate its README calls realistic. Long (tens of seconds a run), so run
 * only a couple of times.
 */
import { DEFAULT_IAM_RATE } from '../../src/engine/engine.js';
import { DAY_MS, writeCredentials, writeKeyupConfig, type SeededKey } from '../fixtures.js';
import { figure, median, ratioTo, type SectionResult } from '../figures.js';
import { cleanEnv, KEYUPD, runNode, startEmulatorProcess, withTempDir } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

const PROFILES = 200;
const RUNS = 2;
const SINGLE_RUNS = 3;
/** emulator/README.md "What realistic means": IAM's rate is a judgment, STS's is documented. */
const RATE_FLAGS = ['--iam-rate', '20', '--iam-burst', '40', '--sts-rate', '600', '--sts-burst', '600'];
const WALL_BUDGET_MS = 60_000;

interface FleetRun {
  readonly wallMs: number;
  readonly peakRssMiB: number;
  /** Profiles without a line saying "rotated". */
  readonly notRotated: number;
  /** Lines of the summary that do not say "rotated" (a failed profile may have two). */
  readonly otherLines: number;
  readonly exitCode: number | null;
  readonly calls: number;
  readonly throttled: number;
  /** What went wrong: the first summary line of the first profiles not rotated. */
  readonly sample: readonly string[];
}

export const fleetSection: Section = {
  title: `${PROFILES} profiles due at once, IAM throttled at 20/s (burst 40)`,
  async run(context: BenchContext): Promise<SectionResult> {
    const single: FleetRun[] = [];
    for (let index = 0; index < SINGLE_RUNS; index++) {
      context.progress(`one profile, for comparison: run ${index + 1} of ${SINGLE_RUNS}`);
      single.push(await runFleet(`single-${index}`, 1));
    }
    const runs: FleetRun[] = [];
    for (let index = 0; index < RUNS; index++) {
      context.progress(`run ${index + 1} of ${RUNS}: seeding ${PROFILES} users, then keyupd --once`);
      runs.push(await runFleet(String(index), PROFILES));
    }
    const pick = (read: (run: FleetRun) => number) => runs.map(read);
    const exitCodes = [...new Set(runs.map((run) => run.exitCode))].join(', ');
    return {
      title: this.title,
      figures: [
        figure(`keyupd --once, ${PROFILES} rotations: wall time`, 'ms', pick((run) => run.wallMs), { ratio: median(pick((run) => run.wallMs)) / WALL_BUDGET_MS, against: 'the budget, 60 s' }),
        figure('peak RSS of keyupd (VmHWM)', 'MiB', pick((run) => run.peakRssMiB), ratioTo(pick((run) => run.peakRssMiB), single.map((run) => run.peakRssMiB), 'one profile')),
        figure('peak RSS of keyupd, one profile (VmHWM)', 'MiB', single.map((run) => run.peakRssMiB), { against: 'the same, with 1 profile due' }),
        figure('profiles not rotated', 'count', pick((run) => run.notRotated), {
          against: `budget 0; exit code ${exitCodes}; ${pick((run) => run.otherLines).join(' and ')} summary lines not saying "rotated"`,
        }),
        figure('AWS calls made', 'calls', pick((run) => run.calls), { ratio: median(pick((run) => run.calls)) / (7 * PROFILES), against: `the minimum, 7 × ${PROFILES}` }),
        figure('AWS calls the emulator throttled', 'calls', pick((run) => run.throttled), {
          against: `keyup paces IAM itself at ${DEFAULT_IAM_RATE.perSecond}/s, burst ${DEFAULT_IAM_RATE.burst}`,
        }),
      ],
      notes: [
        `${PROFILES} profiles: ${RUNS} runs (each takes most of a minute, so only ${RUNS}; the one-profile figure: ${SINGLE_RUNS} runs), each with a fresh emulator (keyup-emulator ${RATE_FLAGS.join(' ')}, activation delay 0) holding ${PROFILES} users with one 100-day-old key each, and a fresh HOME whose credentials file has their ${PROFILES} profiles and whose keyup config has a [profile pN] section for each. Peak RSS: VmHWM of /proc/PID/status polled every 100 ms. "Not rotated": profiles without a summary line saying "rotated"; the summary lines not saying "rotated" count a failed profile's notes too.`,
        ...runs.flatMap((run, index) => run.sample.map((line) => `Run ${index + 1}, not rotated: ${line}`)),
      ],
    };
  },
};

function isRotated(line: string): boolean {
  return /\): rotated /.test(line);
}

/** `keyupd: p12 (u12): rotated …` and `keyupd: p12: …` are both p12's. */
function profileOf(line: string): string {
  return /^keyupd: ([^\s:(]+)/.exec(line)?.[1] ?? line;
}

async function runFleet(label: string, count: number): Promise<FleetRun> {
  return withTempDir(`keyup-bench-fleet-${label}-`, async (home) => {
    const emulator = await startEmulatorProcess(home, ['--activation-delay-ms', '0', ...RATE_FLAGS]);
    try {
      const profiles = new Map<string, SeededKey>();
      const createDate = new Date(Date.now() - 100 * DAY_MS).toISOString();
      for (let user = 0; user < count; user++) {
        await emulator.control.createUser({ userName: `u${user}` });
        profiles.set(`p${user}`, await emulator.control.createAccessKey({ userName: `u${user}`, createDate }));
      }
      await writeCredentials(home, profiles);
      await writeKeyupConfig(home, [...profiles.keys()]);
      await emulator.control.clearCallLog();
      const run = await runNode([KEYUPD, '--once'], { env: cleanEnv(home, emulator.awsEnv), watchMemoryMs: 100 });
      const log = await emulator.control.getCallLog();
      const summary = run.stdout.split('\n').filter((line) => line.trim() !== '');
      const rotated = new Set(summary.filter(isRotated).map(profileOf));
      // A failed profile's first line says what went wrong; its notes follow it.
      const firstLines = new Map<string, string>();
      for (const line of summary) if (!rotated.has(profileOf(line)) && !firstLines.has(profileOf(line))) firstLines.set(profileOf(line), line);
      return {
        wallMs: run.wallMs,
        peakRssMiB: run.peakRssMiB ?? Number.NaN,
        notRotated: count - rotated.size,
        otherLines: summary.filter((line) => !isRotated(line)).length,
        exitCode: run.code,
        sample: [...firstLines.values()].slice(0, 2),
        calls: log.length,
        throttled: log.filter((entry) => entry.fault === 'rate-limit').length,
      };
    } finally {
      await emulator.stop();
    }
  });
}
