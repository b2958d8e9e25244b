import { Cron } from 'croner';

/**
 * How croner reads a schedule: the same as `parseValue` validates it (five fields or a nickname).
 * No `timezone`: the schedule runs in the user's local time zone, as crontab does.
 */
const PATTERN_OPTIONS = { mode: '5-part' } as const;

/** Every five-field pattern repeats within 28 years (weekdays and leap days realign). */
const LOOKBACK_MS = 28 * 366 * 24 * 60 * 60 * 1000;

export interface SchedulerInit {
  /** The config's `schedule` (`0 7 * * *` by default), as `parseValue` accepted it; local time. */
  readonly expression: string;
  /**
   * The check, given the slot it is for (which is earlier than now after a suspend). Awaited: a
   * slot that comes while it runs is skipped, not queued.
   */
  readonly onDue: (slot: Date) => Promise<void>;
  /** Where a failing check goes; nothing the scheduler runs ends as an unhandled rejection. */
  readonly onError: (error: unknown) => void;
  /**
   * The clock of `nextCheck()` and of slot times. Default: the system clock, which croner's timers
   * read too; a test that fakes one fakes both (`vi.useFakeTimers` with `Date`).
   */
  readonly now?: () => Date;
}

export interface Scheduler {
  /** The first slot after now; null once stopped. */
  nextCheck(): Date | null;
  /**
   * A changed `schedule` (a config reload), in effect at once: the next slot is the new
   * expression's first after now. A check already running carries on. An expression croner
   * refuses throws and keeps the current schedule running.
   */
  reschedule(expression: string): void;
  /** No more slots, and no timer left. A check already running carries on; its error still reaches `onError`. */
  stop(): void;
}

/**
 * The latest slot in (after, until], or null. `nextRun(t)` is the first slot strictly after t and
 * never decreases as t grows, so the answer is `nextRun(t)` for the largest t whose next slot is
 * still no later than `until`. Halving the interval finds that t in about 40 calls even across
 * 28 years, where stepping from slot to slot through months of an every-minute schedule would take
 * hundreds of thousands; it also agrees with croner wherever DST moves or repeats a slot.
 */
function findLatestSlot(pattern: Cron, after: Date, until: Date): Date | null {
  const first = pattern.nextRun(after);
  if (first === null || first.getTime() > until.getTime()) return null;
  // Invariant: some slot lies in (low, until], none in (high, until].
  let low = after.getTime();
  let high = until.getTime();
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    const next = pattern.nextRun(new Date(middle));
    if (next !== null && next.getTime() <= until.getTime()) low = middle;
    else high = middle;
  }
  return pattern.nextRun(new Date(low));
}

/**
 * The slot the daemon missed while it was not running: the latest slot in (lastCheck, now], or
 * null when none came (one check makes up for any number of missed slots). A suspended laptop
 * needs none of this: croner's own wake fires that slot once (see `createScheduler`).
 *
 * `lastCheck` null means "never checked": the latest slot up to now counts as missed, so a first
 * start checks at once with no special case in the caller. A `lastCheck` later than `now` (the
 * clock was set back) misses nothing; the next slot comes as usual. Pure: no timer is started.
 */
export function findMissedSlot(expression: string, lastCheck: Date | null, now: Date): Date | null {
  const pattern = new Cron(expression, { ...PATTERN_OPTIONS, paused: true });
  try {
    return findLatestSlot(pattern, lastCheck ?? new Date(now.getTime() - LOOKBACK_MS), now);
  } finally {
    pattern.stop();
  }
}

/**
 * Runs `onDue` at each slot of a cron expression, in local time. croner never sleeps more than
 * 30 s and then compares wall-clock time, so a slot that passed while the machine was suspended
 * fires once, within 30 s of waking, however many slots the suspend spanned.
 *
 * At most one check runs at a time. A slot that comes while a check runs is skipped, not run when
 * that check ends: croner's `protect` alone only refuses it while the check runs, and its next
 * wake (up to 30 s later) would still run it; and after `reschedule` the new croner job knows
 * nothing of a check the old one started. So each wake here asks which slot it is for, and runs it
 * only if that slot is new and did not come while the last check ran.
 */
export function createScheduler({ expression, onDue, onError, now = () => new Date() }: SchedulerInit): Scheduler {
  let lastRun: { started: Date; ended: Date | null } | null = null;
  let stopped = false;

  const report = (error: unknown): void => {
    try {
      onError(error);
    } catch {
      // onError is where errors end; one that throws there has nowhere left to go.
    }
  };

  const fire = async (pattern: Cron): Promise<void> => {
    const at = now();
    if (lastRun !== null && lastRun.ended === null) return;
    // After the clock is set back, the last run's start is in the future: search without it.
    const after = lastRun !== null && lastRun.started.getTime() <= at.getTime() ? lastRun.started : new Date(at.getTime() - LOOKBACK_MS);
    const slot = findLatestSlot(pattern, after, at);
    if (slot === null || (lastRun?.ended != null && slot.getTime() <= lastRun.ended.getTime())) return;
    const run: { started: Date; ended: Date | null } = { started: at, ended: null };
    lastRun = run;
    try {
      await onDue(slot);
    } catch (error) {
      report(error);
    } finally {
      run.ended = now();
    }
  };

  const start = (pattern: string): Cron =>
    new Cron(pattern, { ...PATTERN_OPTIONS, protect: true, catch: (error: unknown) => report(error) }, fire);

  let job = start(expression);

  return {
    nextCheck: () => (stopped ? null : job.nextRun(now())),
    reschedule(pattern) {
      if (stopped) return;
      // Start the new job first: if croner refuses the expression, the old one keeps running.
      const next = start(pattern);
      job.stop();
      job = next;
    },
    stop() {
      stopped = true;
      job.stop();
    },
  };
}
