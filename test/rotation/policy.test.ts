import { describe, expect, it } from 'vitest';
import { assessKeyAge, getDueDate } from '../../src/rotation/policy.js';

const created = new Date('2026-08-01T00:00:00Z');
const daysLater = (days: number) => new Date(created.getTime() + days * 86_400_000);
const limits = { maxAgeDays: 90, warnAgeDays: 80 };

describe('assessKeyAge', () => {
  it('is ok before the warning age, warns from it, and is due from the maximum age', () => {
    expect(assessKeyAge(created, daysLater(79.9), limits)).toEqual({ ageDays: expect.closeTo(79.9, 5), state: 'ok' });
    expect(assessKeyAge(created, daysLater(80), limits).state).toBe('warn');
    expect(assessKeyAge(created, daysLater(89.99), limits).state).toBe('warn');
    expect(assessKeyAge(created, daysLater(90), limits).state).toBe('due');
  });

  it('treats max_age_days = 0 as due at every check, even for a key made a second ago', () => {
    expect(assessKeyAge(created, created, { maxAgeDays: 0, warnAgeDays: 0 }).state).toBe('due');
  });

  it('never reports a negative age when the local clock is behind IAM', () => {
    expect(assessKeyAge(created, daysLater(-1), limits)).toEqual({ ageDays: 0, state: 'ok' });
  });

  it('names the day a key falls due', () => {
    expect(getDueDate(created, 30).toISOString()).toBe('2026-08-31T00:00:00.000Z');
  });
});
