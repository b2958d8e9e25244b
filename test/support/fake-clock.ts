/** A clock that moves only when the code under test sleeps, so timing logic runs instantly. */
export function createFakeClock(start = new Date('2026-11-24T07:00:00Z')) {
  let nowMs = start.getTime();
  const sleeps: number[] = [];
  return {
    now: () => new Date(nowMs),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      nowMs += ms;
    },
    advance: (ms: number) => {
      nowMs += ms;
    },
    sleeps,
  };
}
