/** A profile whose key another keyup process is rotating, as an outcome says it. */
export interface BusyFacts {
  readonly profile: string;
  /** 0 when the lock's owner could not be read. */
  readonly pid: number;
  /** The profile that process is rotating: this one, or another holding the same key. */
  readonly rotating: string;
}

/**
 * "busy: keyup process 42 is rotating it (since …); left to it", without a final full stop, for
 * `keyupd --once`'s lines and `keyupctl rotate`'s alike. `since` is shown as given, since each
 * writes times its own way; undefined leaves it out.
 */
export function describeBusy(busy: BusyFacts, since: string | undefined): string {
  const who = busy.pid === 0 ? 'another keyup process' : `keyup process ${busy.pid}`;
  const what = busy.rotating === busy.profile ? 'it' : `profile ${busy.rotating}, which holds the same key`;
  return `busy: ${who} is rotating ${what}${since === undefined ? '' : ` (since ${since})`}; left to it`;
}
