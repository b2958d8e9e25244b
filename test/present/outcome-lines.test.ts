import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/engine/outcome.js';
import { formatOutcome } from '../../src/present/outcome-lines.js';

const base = { profile: 'default', user: 'alice', account: '123456789012', notes: [] };
const busy = { ...base, kind: 'busy', pid: 4242, rotating: 'default', since: '2026-11-24T07:00:00.000Z' } as const;

describe('formatOutcome', () => {
  it('names every profile that now holds the rotated key, those of the AWS config said so', () => {
    const outcome: Outcome = {
      ...base,
      kind: 'rotated',
      oldKeyId: 'AKIAOLDOLDOLDOLD1234',
      newKeyId: 'AKIANEWNEWNEWNEW5678',
      keyCreated: '2026-11-24T07:00:00.000Z',
      holders: [
        { file: 'credentials', profile: 'default' },
        { file: 'config', profile: 'legacy' },
      ],
    };
    expect(formatOutcome(outcome)).toEqual(['default (alice): rotated AKIA…1234 → AKIA…5678 in profiles default, legacy (AWS config).']);
  });

  it('gives the day a current key falls due', () => {
    const outcome: Outcome = { ...base, kind: 'current', keyId: 'AKIAOLDOLDOLDOLD1234', keyCreated: '2026-10-01T09:00:00.000Z', ageDays: 84.25, maxAgeDays: 90, ageState: 'warn' };
    expect(formatOutcome(outcome)).toEqual(['default (alice): key AKIA…1234 is 84.3 days old, due soon; rotation due on 2026-12-30.']);
  });

  it('says who is rotating a busy profile: this profile or another holding its key, a known pid or not', () => {
    expect(formatOutcome(busy)).toEqual(['default: busy: keyup process 4242 is rotating it (since 2026-11-24T07:00:00.000Z); left to it.']);
    expect(formatOutcome({ ...busy, pid: 0, rotating: 'work' })).toEqual([
      'default: busy: another keyup process is rotating profile work, which holds the same key (since 2026-11-24T07:00:00.000Z); left to it.',
    ]);
  });
});
