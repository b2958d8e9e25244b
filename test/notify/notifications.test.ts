import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/engine/outcome.js';
import { Notifications } from '../../src/notify/notifications.js';

const NOW = new Date('2026-12-01T07:00:00Z');
const HOUR = 3_600_000;
const checked = { profile: 'default', user: 'alice', account: '123456789012', keyId: 'AKIAAAAAAAAAAAAA0001', keyCreated: '2026-08-01T00:00:00.000Z', ageDays: 122, maxAgeDays: 90, ageState: 'due' as const };
const rotated: Outcome = { kind: 'rotated', profile: 'default', user: 'alice', account: '1', oldKeyId: 'AKIAAAAAAAAAAAAA0001', newKeyId: 'AKIAAAAAAAAAAAAA0002', keyCreated: NOW.toISOString(), holders: [{ file: 'credentials', profile: 'default' }], notes: [] };
const failed = (code: Extract<Outcome, { kind: 'failed' }>['error']['code'], message = 'IAM refused iam:CreateAccessKey on user alice for profile default.'): Outcome => ({
  kind: 'failed',
  profile: 'default',
  error: { code, message, hint: 'Attach a policy.' },
  notes: [],
});
const deferred: Outcome = { kind: 'deferred', ...checked, deferral: { reason: 'active-session', profile: 'temp', until: '2026-12-03T07:00:00.000Z' }, notes: [] };
const current: Outcome = { kind: 'current', ...checked, ageState: 'ok', notes: [] };

describe('Notifications', () => {
  it('with notify = failures: a failure is shown once, not again at the next check, and again after a success', () => {
    const n = new Notifications(() => 'failures');
    const first = n.consider(failed('access-denied'), NOW);
    expect(first).toEqual({ title: 'keyup could not rotate the AWS key of profile default', body: 'IAM refused iam:CreateAccessKey on user alice for profile default. Run keyupctl status to see what to do.' });
    expect(n.consider(failed('access-denied'), NOW)).toBeUndefined();
    expect(n.consider(current, NOW)).toBeUndefined();
    expect(n.consider(failed('access-denied'), NOW)).toEqual(first);
  });

  it('shows a different failure of the same profile as news', () => {
    const n = new Notifications(() => 'failures');
    expect(n.consider(failed('access-denied'), NOW)).toBeDefined();
    expect(n.consider(failed('second-active-key', 'User alice already has a second active key.'), NOW)?.body).toContain('second active key');
  });

  it('says nothing of what is waited out or left to another process', () => {
    const n = new Notifications(() => 'all');
    for (const code of ['network', 'aborted', 'busy'] as const) expect(n.consider(failed(code), NOW)).toBeUndefined();
    expect(n.consider({ kind: 'busy', profile: 'default', pid: 1, rotating: 'default', since: NOW.toISOString(), notes: [] }, NOW)).toBeUndefined();
  });

  it('shows a rotation only with notify = all, and nothing at all with off', () => {
    expect(new Notifications(() => 'failures').consider(rotated, NOW)).toBeUndefined();
    expect(new Notifications(() => 'all').consider(rotated, NOW)).toEqual({
      title: 'keyup rotated the AWS key of profile default',
      body: 'AKIA…0001 was replaced by AKIA…0002 in default. Nothing to do: your tools use the new key already.',
    });
    const off = new Notifications(() => 'off');
    expect(off.consider(rotated, NOW)).toBeUndefined();
    expect(off.consider(failed('access-denied'), NOW)).toBeUndefined();
  });

  it('tells of a deferral only once it has lasted a day, once, with what to run', () => {
    const n = new Notifications(() => 'failures');
    expect(n.consider(deferred, NOW)).toBeUndefined();
    expect(n.consider(deferred, new Date(NOW.getTime() + 23 * HOUR))).toBeUndefined();
    const day = n.consider(deferred, new Date(NOW.getTime() + 25 * HOUR));
    expect(day?.title).toBe('keyup has waited over a day to rotate the AWS key of profile default');
    expect(day?.body).toContain('keyupctl rotate now --force --profile default');
    expect(day?.body).toContain('profile temp holds temporary credentials');
    expect(n.consider(deferred, new Date(NOW.getTime() + 49 * HOUR))).toBeUndefined();
  });

  it('remembers across restarts what it showed and since when a deferral runs', () => {
    const n = new Notifications(() => 'failures');
    n.consider(failed('access-denied'), NOW);
    n.consider(deferred, NOW);
    const memory = JSON.parse(JSON.stringify(n.memory())) as ReturnType<Notifications['memory']>;
    expect(new Notifications(() => 'failures', memory).consider(failed('access-denied'), NOW)).toBeUndefined();
    expect(new Notifications(() => 'failures', memory).consider(deferred, new Date(NOW.getTime() + 25 * HOUR))).toBeDefined();
  });

  it('asks for an MFA code where IAM needs one', () => {
    expect(new Notifications(() => 'failures').consider(failed('needs-mfa', 'IAM needs MFA.'), NOW)).toEqual({
      title: 'Profile default needs an MFA code to rotate its AWS key',
      body: 'Run: keyupctl rotate now --profile default (it asks for the code).',
    });
  });

  it('keeps a long message to a glance', () => {
    const body = new Notifications(() => 'failures').consider(failed('aws-error', 'x'.repeat(1000)), NOW)?.body ?? '';
    expect(body.length).toBeLessThanOrEqual(280);
    expect(body.endsWith('…')).toBe(true);
  });
});
