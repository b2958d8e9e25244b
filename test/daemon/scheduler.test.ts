import fc from 'fast-check';
import { Cron } from 'croner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createScheduler, findMissedSlot } from '../../src/daemon/scheduler.js';
import type { Scheduler } from '../../src/daemon/scheduler.js';

/** Local wall-clock time: the schedule runs in the user's time zone, whatever the machine's is. */
const local = (day: number, hour: number, minute = 0, second = 0, ms = 0) => new Date(2026, 10, day, hour, minute, second, ms);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A check that runs until the test ends it. */
function createPendingCheck() {
  let finish: (() => void) | undefined;
  let fail: ((error: unknown) => void) | undefined;
  const onDue = vi.fn(
    (_slot: Date) =>
      new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      }),
  );
  return { onDue, finish: () => finish?.(), fail: (error: unknown) => fail?.(error) };
}

describe('createScheduler', () => {
  let scheduler: Scheduler | undefined;

  beforeEach(() => {
    // Date and the timers croner sleeps on, nothing else: croner's 30-second naps run instantly.
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });

  afterEach(() => {
    scheduler?.stop();
    scheduler = undefined;
    vi.useRealTimers();
  });

  it('fires a slot reached normally once, with the slot it is for', async () => {
    vi.setSystemTime(local(24, 6, 59));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '0 7 * * *', onDue, onError: vi.fn() });

    expect(scheduler.nextCheck()).toEqual(local(24, 7));
    await vi.advanceTimersByTimeAsync(1.5 * MINUTE);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(onDue).toHaveBeenCalledWith(local(24, 7));
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(scheduler.nextCheck()).toEqual(local(25, 7));
  });

  it('fires a slot missed during a suspend once, within 30 s of waking, then waits for the next day', async () => {
    vi.setSystemTime(local(24, 6, 59));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '0 7 * * *', onDue, onError: vi.fn() });

    // A suspend: the wall clock jumps, and no timer fires while it does.
    vi.setSystemTime(local(24, 9, 0));
    expect(onDue).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(30_000);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(onDue).toHaveBeenCalledWith(local(24, 7));

    // Until a minute before the next day's slot (06:59:30 on the 25th), nothing more.
    await vi.advanceTimersByTimeAsync(local(25, 6, 59).getTime() - Date.now());
    expect(onDue).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1.5 * MINUTE);
    expect(onDue).toHaveBeenCalledTimes(2);
    expect(onDue).toHaveBeenLastCalledWith(local(25, 7));
  });

  it('fires once after a suspend that spanned several slots', async () => {
    vi.setSystemTime(local(24, 6, 59));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '0 7 * * *', onDue, onError: vi.fn() });

    vi.setSystemTime(local(27, 9, 0));
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(onDue).toHaveBeenCalledWith(local(27, 7));
  });

  it('moves the next check at once on reschedule, and drops the old slots', async () => {
    vi.setSystemTime(local(24, 6, 0));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '0 7 * * *', onDue, onError: vi.fn() });
    expect(scheduler.nextCheck()).toEqual(local(24, 7));

    scheduler.reschedule('30 6 * * *');
    expect(scheduler.nextCheck()).toEqual(local(24, 6, 30));
    await vi.advanceTimersByTimeAsync(31 * MINUTE);
    expect(onDue).toHaveBeenCalledTimes(1);
    expect(onDue).toHaveBeenCalledWith(local(24, 6, 30));
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(onDue).toHaveBeenCalledTimes(1);
  });

  it('keeps the running schedule when croner refuses the new expression', async () => {
    vi.setSystemTime(local(24, 6, 0));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '0 7 * * *', onDue, onError: vi.fn() });

    expect(() => scheduler?.reschedule('61 7 * * *')).toThrow();
    expect(scheduler.nextCheck()).toEqual(local(24, 7));
    await vi.advanceTimersByTimeAsync(HOUR + MINUTE);
    expect(onDue).toHaveBeenCalledTimes(1);
  });

  it('stops: no next check, no call, no timer left', async () => {
    vi.setSystemTime(local(24, 6, 59));
    const onDue = vi.fn(async (_slot: Date) => {});
    scheduler = createScheduler({ expression: '* * * * *', onDue, onError: vi.fn() });

    scheduler.stop();
    expect(scheduler.nextCheck()).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2 * 24 * HOUR);
    expect(onDue).not.toHaveBeenCalled();
    scheduler.reschedule('0 7 * * *');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a check that rejects, or throws before returning a promise, to onError', async () => {
    vi.setSystemTime(local(24, 6, 59, 30));
    const rejected = new Error('IAM said no');
    const thrown = new Error('no promise at all');
    const onDue = vi
      .fn<(slot: Date) => Promise<void>>()
      .mockRejectedValueOnce(rejected)
      .mockImplementationOnce(() => {
        throw thrown;
      });
    const onError = vi.fn();
    scheduler = createScheduler({ expression: '* * * * *', onDue, onError });

    await vi.advanceTimersByTimeAsync(MINUTE);
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(onDue).toHaveBeenCalledTimes(2);
    expect(onError.mock.calls).toEqual([[rejected], [thrown]]);
  });

  it('survives an onError that throws (vitest fails the run on an unhandled rejection)', async () => {
    vi.setSystemTime(local(24, 6, 59, 30));
    const onError = vi.fn(() => {
      throw new Error('the logger is gone');
    });
    scheduler = createScheduler({ expression: '* * * * *', onDue: () => Promise.reject(new Error('boom')), onError });

    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(onError).toHaveBeenCalledTimes(3);
  });

  it('never re-enters a long check, and skips the slots that came while it ran', async () => {
    vi.setSystemTime(local(24, 6, 59, 59));
    const check = createPendingCheck();
    scheduler = createScheduler({ expression: '* * * * *', onDue: check.onDue, onError: vi.fn() });

    await vi.advanceTimersByTimeAsync(2_000);
    expect(check.onDue).toHaveBeenCalledTimes(1);
    // Slots 07:01, 07:02 and 07:03 come while the check runs.
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(check.onDue).toHaveBeenCalledTimes(1);

    // It ends at 07:03:10; croner wakes again at about 07:03:30, which must not run 07:03 late.
    await vi.advanceTimersByTimeAsync(8_000);
    check.finish();
    await vi.advanceTimersByTimeAsync(40_000);
    expect(check.onDue).toHaveBeenCalledTimes(1);

    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(check.onDue).toHaveBeenCalledTimes(2);
    expect(check.onDue).toHaveBeenLastCalledWith(local(24, 7, 4));
  });

  it('does not start a second check when a reschedule comes while one runs', async () => {
    vi.setSystemTime(local(24, 6, 59, 59));
    const check = createPendingCheck();
    scheduler = createScheduler({ expression: '0 7 * * *', onDue: check.onDue, onError: vi.fn() });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(check.onDue).toHaveBeenCalledTimes(1);

    scheduler.reschedule('* * * * *');
    await vi.advanceTimersByTimeAsync(3 * MINUTE);
    expect(check.onDue).toHaveBeenCalledTimes(1);

    check.fail(new Error('late failure'));
    await vi.advanceTimersByTimeAsync(MINUTE);
    expect(check.onDue).toHaveBeenCalledTimes(2);
  });

  it('still reports the error of a check that was running when it stopped', async () => {
    vi.setSystemTime(local(24, 6, 59, 59));
    const check = createPendingCheck();
    const onError = vi.fn();
    scheduler = createScheduler({ expression: '0 7 * * *', onDue: check.onDue, onError });
    await vi.advanceTimersByTimeAsync(2_000);

    scheduler.stop();
    const error = new Error('after stop');
    check.fail(error);
    await vi.advanceTimersByTimeAsync(0);
    expect(onError).toHaveBeenCalledWith(error);
  });
});

describe('findMissedSlot', () => {
  it('finds the latest slot after the last check, up to and including now', () => {
    expect(findMissedSlot('0 7 * * *', local(23, 7, 0, 5), local(24, 9))).toEqual(local(24, 7));
    expect(findMissedSlot('0 7 * * *', local(20, 7, 0, 5), local(24, 9))).toEqual(local(24, 7));
    expect(findMissedSlot('0 7 * * *', local(23, 7, 0, 5), local(24, 7))).toEqual(local(24, 7));
    expect(findMissedSlot('0 7 * * *', local(24, 6, 59, 59, 999), local(24, 7))).toEqual(local(24, 7));
  });

  it('finds nothing when no slot came since the last check', () => {
    expect(findMissedSlot('0 7 * * *', local(24, 7, 0, 5), local(24, 9))).toBeNull();
    // The check that the slot itself started.
    expect(findMissedSlot('0 7 * * *', local(24, 7), local(24, 7, 0, 0, 5))).toBeNull();
    expect(findMissedSlot('0 7 * * *', local(23, 7, 0, 5), local(24, 6, 59, 59, 999))).toBeNull();
  });

  it('counts the latest slot as missed when there was never a check', () => {
    expect(findMissedSlot('0 7 * * *', null, local(24, 9))).toEqual(local(24, 7));
    expect(findMissedSlot('0 7 * * *', null, local(24, 6))).toEqual(local(23, 7));
    // Once a year, and the last one was months ago.
    expect(findMissedSlot('0 0 1 1 *', null, local(24, 9))).toEqual(new Date(2026, 0, 1));
  });

  it('misses nothing when the last check is in the future (the clock was set back)', () => {
    expect(findMissedSlot('* * * * *', local(25, 9), local(24, 9))).toBeNull();
  });

  it('reads nicknames as parseValue accepts them', () => {
    expect(findMissedSlot('@daily', local(23, 1), local(24, 9))).toEqual(local(24, 0));
  });

  it('asks croner a few dozen times, not once per slot, for an every-minute schedule last checked months ago', () => {
    const nextRun = vi.spyOn(Cron.prototype, 'nextRun');
    try {
      expect(findMissedSlot('* * * * *', new Date(2026, 4, 1), local(24, 9, 30, 20))).toEqual(local(24, 9, 30));
      expect(nextRun.mock.calls.length).toBeLessThan(60);
    } finally {
      nextRun.mockRestore();
    }
  });

  describe.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'])('in time zone %s', (zone) => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.TZ;
      process.env.TZ = zone;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it('agrees with stepping through every slot, across DST changes too', () => {
      // Each zone really is in use: all but UTC change their offset during the year.
      expect(new Date(2026, 0, 1).getTimezoneOffset() !== new Date(2026, 6, 1).getTimezoneOffset()).toBe(zone !== 'UTC');
      const expressions = ['0 7 * * *', '30 2 * * *', '*/7 * * * *', '15 1-3 * * 0', '0 0 29 2 *', '@hourly', '0 9 * * 1-5'];
      // The 2026 DST changes of these zones (US, EU, Lord Howe), where a slot can vanish or repeat.
      const changes = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'].map((day) => Date.parse(`${day}T00:00:00Z`));
      const DAY = 24 * HOUR;
      const lastChecks = fc.oneof(
        fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * DAY, max: DAY })).map(([change, offset]) => change + offset),
        fc.integer({ min: changes[0] ?? 0, max: changes.at(-1) ?? 0 }),
      );
      fc.assert(
        fc.property(
          fc.constantFrom(...expressions),
          lastChecks,
          fc.integer({ min: 0, max: 3 * DAY }),
          (expression, at, gap) => {
            const lastCheck = new Date(at);
            const now = new Date(at + gap);
            const pattern = new Cron(expression, { paused: true, mode: '5-part' });
            let expected: Date | null = null;
            for (let slot = pattern.nextRun(lastCheck); slot !== null && slot <= now; slot = pattern.nextRun(slot)) expected = slot;
            expect(findMissedSlot(expression, lastCheck, now)).toEqual(expected);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
