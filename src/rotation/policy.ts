const MS_PER_DAY = 86_400_000;

export type AgeState = 'ok' | 'warn' | 'due';

export interface KeyAge {
  /** Days since IAM created the key, to one decimal place in status. */
  readonly ageDays: number;
  readonly state: AgeState;
}

export interface AgeLimits {
  readonly maxAgeDays: number;
  readonly warnAgeDays: number;
}

/**
 * Age comes from IAM's CreateDate, never a file time: copying or restoring the credentials file
 * must not make an old key look young. `max_age_days = 0` means due at every check.
 */
export function assessKeyAge(createDate: Date, now: Date, { maxAgeDays, warnAgeDays }: AgeLimits): KeyAge {
  const ageDays = Math.max(0, (now.getTime() - createDate.getTime()) / MS_PER_DAY);
  if (maxAgeDays === 0 || ageDays >= maxAgeDays) return { ageDays, state: 'due' };
  if (ageDays >= warnAgeDays) return { ageDays, state: 'warn' };
  return { ageDays, state: 'ok' };
}

/** The day a key falls due, for status. */
export function getDueDate(createDate: Date, maxAgeDays: number): Date {
  return new Date(createDate.getTime() + maxAgeDays * MS_PER_DAY);
}
