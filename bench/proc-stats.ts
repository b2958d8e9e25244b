/**
 * What Linux says of a running process in /proc: CPU time, wake-ups and memory, read from outside
 * so that the process measured does nothing for the measuring.
 */
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/**
 * USER_HZ, the unit of utime and stime in /proc/PID/stat: 100 on every architecture Linux runs
 * Node on (the kernel keeps it fixed for user space, whatever its own tick rate).
 */
const TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** performance.now() of the bench process when the sample was taken. */
  readonly at: number;
  /**
   * utime + stime of /proc/PID/stat, in ms: every thread, ended ones included, but counted in
   * ticks of 10 ms, too coarse for an idle minute whose budget is under 2 ms.
   */
  readonly tickCpuMs: number;
  /**
   * The first field of /proc/PID/task/TID/schedstat summed over the live threads: nanoseconds
   * on a CPU, exact, in ms. A thread that ended between two samples takes its time with it.
   */
  readonly cpuMs: number;
  /** voluntary_ctxt_switches of the main thread: each is the event loop going to sleep, so each wake-up. */
  readonly mainWakeups: number;
  /** The same summed over every live thread (the libuv pool, V8's workers). */
  readonly allWakeups: number;
  readonly threads: number;
  readonly rssKiB: number;
  /** VmHWM: the kernel's own high-water mark of the resident set since the process started. */
  readonly hwmKiB: number;
}

/** One sample of process `pid`; throws if it is gone or this is not Linux. */
export async function readProcSample(pid: number): Promise<ProcSample> {
  const at = performance.now();
  const [stat, status, tids] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8'), readdir(`/proc/${pid}/task`)]);
  // The command name in parentheses may hold spaces: the fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15, and the first field after the name is field 3.
  const ticks = Number(fields[11]) + Number(fields[12]);
  let cpuNs = 0;
  let allWakeups = 0;
  let threads = 0;
  for (const tid of tids) {
    try {
      const [schedstat, threadStatus] = await Promise.all([readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8'), readFile(`/proc/${pid}/task/${tid}/status`, 'utf8')]);
      cpuNs += Number(schedstat.split(' ')[0]);
      allWakeups += readStatusNumber(threadStatus, 'voluntary_ctxt_switches');
      threads++;
    } catch {
      // The thread ended after readdir.
    }
  }
  return {
    at,
    tickCpuMs: (ticks * 1000) / TICKS_PER_SECOND,
    cpuMs: cpuNs / 1e6,
    mainWakeups: readStatusNumber(status, 'voluntary_ctxt_switches'),
    allWakeups,
    threads,
    rssKiB: readStatusNumber(status, 'VmRSS'),
    hwmKiB: readStatusNumber(status, 'VmHWM'),
  };
}

function readStatusNumber(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  if (match === null) throw new Error(`/proc status has no ${field}`);
  return Number(match[1]);
}

/** Seconds of CPU an hour at the rate seen between two samples. */
export function cpuSecondsPerHour(from: ProcSample, to: ProcSample, read: (sample: ProcSample) => number = (sample) => sample.cpuMs): number {
  const cpuSeconds = (read(to) - read(from)) / 1000;
  const hours = (to.at - from.at) / 3_600_000;
  return cpuSeconds / hours;
}

/** Counts a minute at the rate seen between two samples. */
export function perMinute(from: ProcSample, to: ProcSample, read: (sample: ProcSample) => number): number {
  return ((read(to) - read(from)) * 60_000) / (to.at - from.at);
}
