/**
 * Issue 9's figures for keyupd doing nothing, as it does nearly all day: its CPU an hour
 * (budget ≤ 0.1 s), how often it wakes, and its memory (budget ≤ 50 MiB), against a bare Node
 * process idling beside it over the same window.
 *
 * The window is long (a minute) because the daemon's only timer is croner's, every 30 s; it runs
 * once. It opens once keyupd has settled after its start-up check: V8 collects the garbage of that
 * check's work for a while after it (its "memory reducer": up to three collections 8 s apart,
 * seen 7–25 s after the check, ~100 ms of CPU), a cost of each check, not of idling, so it gets a
 * figure of its own.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon } from '../daemon.js';
import { figure, median, ratioTo, type SectionResult } from '../figures.js';
import { cpuSecondsPerHour, perMinute, readProcSample, type ProcSample } from '../proc-stats.js';
import { cleanEnv, startEmulatorProcess, withTempDir } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

const PROFILES = 10;
/** Settled: at least this long after the check, and then this quiet (a croner wake is ~1 ms, a collection tens). */
const SETTLE_MIN_MS = 30_000;
const QUIET_MS = 12_000;
const QUIET_CPU_MS = 5;
const SETTLE_MAX_MS = 90_000;
/** croner wakes every 30 s: each slice holds about one wake, and two make the minute. */
const SLICE_MS = 30_000;
const SLICES = 2;
const CPU_BUDGET_S_PER_HOUR = 0.1;
const RSS_BUDGET_MIB = 50;
const BARE_SCRIPT = 'setInterval(()=>{},1e9)';

const mib = (kib: number) => kib / 1024;

export const idleSection: Section = {
  title: `keyupd idle, ${PROFILES} profiles`,
  async run(context: BenchContext): Promise<SectionResult> {
    return withTempDir('keyup-bench-idle-', async (dir) => {
      const emulator = await startEmulatorProcess(dir);
      // Started first, so that its own start-up is long over when the window opens.
      const bare = spawn(process.execPath, ['-e', BARE_SCRIPT], { env: cleanEnv(dir), stdio: 'ignore' });
      const bareExited = new Promise<void>((resolve) => bare.once('exit', () => resolve()));
      try {
        context.progress(`a keyupd managing ${PROFILES} profiles, nothing due; its start-up check`);
        const daemon = await startDaemon({ home: join(dir, 'daemon'), emulator, profiles: PROFILES, userPrefix: 'idle-' });
        try {
          const barePid = bare.pid;
          if (barePid === undefined || bare.exitCode !== null) throw new Error(`node -e "${BARE_SCRIPT}" did not start`);
          await emulator.control.clearCallLog();
          const loggedBefore = daemon.logs().length;
          context.progress(`at least ${SETTLE_MIN_MS / 1000} s for V8 to collect after the check, then ${(SLICES * SLICE_MS) / 1000} s idle (once: it is the bench's longest wait)`);
          const settle = await waitForQuiet(daemon.pid);
          const samples: { daemon: ProcSample; bare: ProcSample }[] = [];
          const take = async () => samples.push({ daemon: await readProcSample(daemon.pid), bare: await readProcSample(barePid) });
          await take();
          for (let slice = 0; slice < SLICES; slice++) {
            await sleep(SLICE_MS);
            await take();
          }
          const calls = (await emulator.control.getCallLog()).length;
          const logged = daemon.logs().length - loggedBefore;
          return summarize(this.title, settle, samples, calls, logged);
        } finally {
          await daemon.stop();
        }
      } finally {
        bare.kill('SIGTERM');
        await bareExited;
        await emulator.stop();
      }
    });
  },
};

interface Settle {
  readonly afterCheck: ProcSample;
  readonly settled: ProcSample;
  /** False when SETTLE_MAX_MS passed without a quiet stretch. */
  readonly quiet: boolean;
}

/** Samples `pid` every second until it has been quiet for QUIET_MS, no sooner than SETTLE_MIN_MS. */
async function waitForQuiet(pid: number): Promise<Settle> {
  const afterCheck = await readProcSample(pid);
  const history = [afterCheck];
  for (;;) {
    await sleep(1_000);
    const latest = await readProcSample(pid);
    history.push(latest);
    const since = latest.at - afterCheck.at;
    const stretchStart = history.find((sample) => latest.at - sample.at <= QUIET_MS) ?? latest;
    const quiet = latest.at - stretchStart.at >= QUIET_MS - 1_000 && latest.cpuMs - stretchStart.cpuMs < QUIET_CPU_MS;
    if ((since >= SETTLE_MIN_MS && quiet) || since >= SETTLE_MAX_MS) return { afterCheck, settled: latest, quiet };
  }
}

function summarize(title: string, { afterCheck, settled, quiet }: Settle, samples: readonly { daemon: ProcSample; bare: ProcSample }[], calls: number, logLines: number): SectionResult {
  const slices = <T>(read: (from: ProcSample, to: ProcSample) => T, who: 'daemon' | 'bare') =>
    samples.slice(1).map((sample, index) => read((samples[index] as (typeof samples)[number])[who], sample[who]));
  const first = samples[0] as (typeof samples)[number];
  const last = samples.at(-1) as (typeof samples)[number];
  const daemonCpu = slices(cpuSecondsPerHour, 'daemon');
  const bareCpu = slices(cpuSecondsPerHour, 'bare');
  const daemonWakes = slices((from, to) => perMinute(from, to, (sample) => sample.mainWakeups), 'daemon');
  const daemonAllWakes = slices((from, to) => perMinute(from, to, (sample) => sample.allWakeups), 'daemon');
  const bareWakes = slices((from, to) => perMinute(from, to, (sample) => sample.mainWakeups), 'bare');
  const daemonRss = samples.slice(1).map((sample) => mib(sample.daemon.rssKiB));
  const bareRss = samples.slice(1).map((sample) => mib(sample.bare.rssKiB));
  const windowSeconds = (last.daemon.at - first.daemon.at) / 1000;
  const ticks = last.daemon.tickCpuMs - first.daemon.tickCpuMs;
  return {
    title,
    figures: [
      figure('keyupd idle: CPU an hour', 's/h', daemonCpu, { ratio: median(daemonCpu) / CPU_BUDGET_S_PER_HOUR, against: `the budget, ${CPU_BUDGET_S_PER_HOUR} s/h` }),
      figure('bare node idle: CPU an hour', 's/h', bareCpu, { against: `the yardstick: node -e "${BARE_SCRIPT}"` }),
      figure(`keyupd: CPU in the ${((settled.at - afterCheck.at) / 1000).toFixed(0)} s after its start-up check`, 'ms', [settled.cpuMs - afterCheck.cpuMs], { against: 'V8 collecting after the check: a cost of each check, not counted above' }),
      figure('keyupd idle: wake-ups a minute, event loop', 'count', daemonWakes, { against: `bare node: ${median(bareWakes).toFixed(1)}` }),
      figure(`keyupd idle: wake-ups a minute, all ${last.daemon.threads} threads`, 'count', daemonAllWakes, { against: 'voluntary context switches of every thread' }),
      figure('keyupd idle: RSS (VmRSS)', 'MiB', daemonRss, ratioTo(daemonRss, bareRss, `bare node (budget ≤ ${RSS_BUDGET_MIB} MiB)`)),
      figure('keyupd: peak RSS (VmHWM)', 'MiB', [mib(last.daemon.hwmKiB)], ratioTo([mib(last.daemon.hwmKiB)], [mib(last.bare.hwmKiB)], "bare node's")),
      figure('bare node idle: RSS (VmRSS)', 'MiB', bareRss, { against: 'the yardstick' }),
      figure('bare node: peak RSS (VmHWM)', 'MiB', [mib(last.bare.hwmKiB)], { against: 'the yardstick' }),
    ],
    notes: [
      `keyupd idle: one window of ${windowSeconds.toFixed(0)} s (run once: the bench's longest wait), opened ${((settled.at - afterCheck.at) / 1000).toFixed(0)} s after keyupd's start-up check ended${quiet ? ` and it had used under ${QUIET_CPU_MS} ms of CPU for ${QUIET_MS / 1000} s` : ` (it never was quiet for ${QUIET_MS / 1000} s: the window may hold a garbage collection)`} (an outcome logged for each of its ${PROFILES} profiles, all 10-day-old keys, and daemon.json saved), keyupd and its emulator each in a process of their own, a bare node -e "${BARE_SCRIPT}" idling beside it over the same window. The samples are the window's ${SLICES} slices of ${SLICE_MS / 1000} s (croner, keyupd's only timer, wakes every 30 s), each extrapolated to an hour; the median of two is their mean. CPU: nanoseconds on a CPU of every thread (/proc/PID/task/*/schedstat); utime + stime of /proc/PID/stat moved ${ticks} ms over the window, but in ticks of 10 ms, too coarse for a budget of 1.7 ms a minute. Wake-ups: voluntary context switches (/proc/PID/status), of the main thread (the event loop) and of all threads. RSS: VmRSS at the end of each slice; peak: VmHWM at the end. From the end of its start-up check to the end of the window, keyupd made ${calls} AWS calls and logged ${logLines} lines.`,
    ],
  };
}
