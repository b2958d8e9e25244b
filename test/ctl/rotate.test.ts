import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { createPaint } from '../../src/ctl/color.js';
import { formatDateTime } from '../../src/ctl/format.js';
import type { Ask, CallDaemon, CommandContext } from '../../src/ctl/context.js';
import { runRotate } from '../../src/ctl/rotate.js';
import { RotationReporter, getRotateExitCode } from '../../src/ctl/rotate-progress.js';
import type { WireOutcome } from '../../src/ctl/replies.js';

const NEW = 'AKIANEWNEWNEWNEW5678';

function verify(at: number, attempt: number, extra: Record<string, unknown> = {}) {
  return { type: 'step', profile: 'default', step: 'verify', elapsed_ms: at, text: 'IAM has not spread the new key yet; waiting.', data: { new_key_id: NEW, attempt, streak: 0, outcome: attempt === 0 ? null : 'refused', ...extra } };
}

function capture(live: boolean, willAskForMfa = false) {
  let out = '';
  let err = '';
  const reporter = new RotationReporter({ out: (text) => (out += text), err: (text) => (err += text), paint: createPaint(false), live, willAskForMfa });
  return { reporter, out: () => out, err: () => err };
}

const failedMfa: WireOutcome = { kind: 'failed', profile: 'default', error: { code: 'needs-mfa', message: 'IAM demands MFA to change the keys of alice.', hint: 'Give the code with --mfa-code.' }, notes: [] };
const rotated: WireOutcome = { kind: 'rotated', profile: 'default', user: 'alice', old_key_id: 'AKIAOLDOLDOLDOLD1234', new_key_id: NEW, holders: [{ file: 'credentials', profile: 'default' }, { file: 'config', profile: 'legacy' }], notes: [] };

describe('RotationReporter', () => {
  it('on a terminal, keeps the wait for IAM on one line rewritten in place, with spaces and no escape code', () => {
    const { reporter, out } = capture(true);
    reporter.onProgress(verify(1000, 0));
    reporter.onProgress(verify(1100, 1));
    reporter.onProgress(verify(4300, 2));
    reporter.onProgress({ type: 'step', profile: 'default', step: 'verify', elapsed_ms: 4400, text: 'AWS accepts the new key.', data: { new_key_id: NEW, verified: true } });
    expect(out()).toBe(
      [
        '\rdefault: waiting for IAM to accept the new key AKIA…5678…',
        // Shorter than the first: padded so nothing of it shows.
        '\rdefault: waiting for IAM to accept the new key (0.1 s)…  ',
        '\rdefault: waiting for IAM to accept the new key (3.3 s)…',
        '\ndefault: AWS accepts the new key after 3.4 s\n',
      ].join(''),
    );
    expect(out()).not.toContain('\u001b');
  });

  it('ends a live line before another profile’s line and at the end', () => {
    const { reporter, out } = capture(true);
    reporter.onProgress(verify(1000, 0));
    reporter.onProgress({ type: 'step', profile: 'work', step: 'create', elapsed_ms: 10, text: 'Creating.', data: { attempt: 2 } });
    reporter.onProgress(verify(1500, 1));
    reporter.finish([]);
    expect(out()).toBe('\rdefault: waiting for IAM to accept the new key AKIA…5678…\nwork: creating new key (attempt 2)…\n\rdefault: waiting for IAM to accept the new key (0.5 s)…\n');
  });

  it('prints an outcome once, notes once, and skips what it does not know', () => {
    const { reporter, out, err } = capture(false);
    const note = 'Put the new key AKIA…5678 back into profile default: another program had written the retired key AKIA…1234 back.';
    reporter.onProgress({ type: 'step', profile: 'default', step: 'recover', elapsed_ms: 1, text: note, data: {} });
    reporter.onProgress({ type: 'step', profile: 'default', step: 'defer', elapsed_ms: 2, text: 'Deferred until later.', data: {} });
    reporter.onProgress({ type: 'mystery', profile: 'default' });
    reporter.onProgress('nonsense');
    reporter.onProgress({ type: 'end', profile: 'default', elapsed_ms: 61_000, outcome: { ...rotated, notes: [note] } });
    expect(reporter.finish([{ ...rotated, notes: [note] }])).toBe(ExitCode.ok);
    expect(out()).toBe(`default: put the new key AKIA…5678 back into profile default: another program had written the retired key AKIA…1234 back\ndefault: rotated AKIA…1234 → AKIA…5678 (61.0 s), also in legacy (AWS config)\n`);
    expect(err()).toBe('');
  });

  it('holds back an MFA refusal when it will ask for the code, and reports it otherwise', () => {
    const asking = capture(false, true);
    asking.reporter.finish([failedMfa]);
    expect(asking.out()).toBe('default: IAM wants an MFA code to change this key\n');
    expect(asking.err()).toBe('');
    const notAsking = capture(false, false);
    notAsking.reporter.finish([failedMfa]);
    expect(notAsking.err()).toBe('keyupctl: default: IAM demands MFA to change the keys of alice. Give the code with --mfa-code.\n');
  });

  it('says who is rotating a busy profile: this profile or another holding its key, a known pid or not', () => {
    const { reporter, out } = capture(false);
    const busy = { kind: 'busy', profile: 'default', pid: 4242, rotating: 'default', since: '2026-11-24T07:00:00.000Z', notes: [] } as const;
    reporter.finish([busy, { ...busy, profile: 'copy', pid: 0, rotating: 'default' }]);
    const since = formatDateTime(busy.since);
    expect(out()).toBe(
      `default: busy: keyup process 4242 is rotating it (since ${since}); left to it\ncopy: busy: another keyup process is rotating profile default, which holds the same key (since ${since}); left to it\n`,
    );
  });

  it('exits 1 on a failure, 4 on a deferral without one, 0 otherwise (busy included)', () => {
    const deferred: WireOutcome = { kind: 'deferred', profile: 'b', user: 'u', key_id: 'AKIAOLDOLDOLDOLD1234', deferral: { reason: 'active-session', profile: 's', until: null }, notes: [] };
    const busy: WireOutcome = { kind: 'busy', profile: 'c', pid: 9, rotating: 'c', since: '2026-11-24T10:00:00Z', notes: [] };
    expect(getRotateExitCode([rotated, busy])).toBe(ExitCode.ok);
    expect(getRotateExitCode([busy, deferred])).toBe(ExitCode.deferred);
    expect(getRotateExitCode([deferred, failedMfa])).toBe(ExitCode.failed);
    expect(getRotateExitCode([])).toBe(ExitCode.ok);
  });
});

describe('runRotate', () => {
  function context(call: CallDaemon, ask: Ask | undefined) {
    let out = '';
    let err = '';
    const ctx: CommandContext = { out: (text) => (out += text), err: (text) => (err += text), paint: createPaint(false), stdoutIsTTY: false, call, now: () => new Date(), getAsk: () => ask, timeoutMs: undefined };
    return { ctx, out: () => out, err: () => err };
  }

  it('asks for the MFA code where IAM demands one and rotates that profile again with it', async () => {
    const calls: unknown[] = [];
    const call: CallDaemon = async (method, params, options) => {
      calls.push({ method, params, timeoutMs: options?.timeoutMs });
      return { outcomes: calls.length === 1 ? [failedMfa, { ...rotated, profile: 'work' }] : [rotated] };
    };
    const questions: string[] = [];
    const { ctx, out, err } = context(call, async (question) => {
      questions.push(question);
      return ' 123456 ';
    });
    expect(await runRotate(ctx, { profiles: [], force: true, mfaCode: undefined })).toBe(ExitCode.ok);
    expect(questions).toEqual(['default: MFA code: ']);
    expect(calls).toEqual([
      { method: 'rotate', params: { force: true }, timeoutMs: 120_000 },
      { method: 'rotate', params: { profiles: ['default'], force: true, mfa_code: '123456' }, timeoutMs: 120_000 },
    ]);
    expect(out()).toBe('default: IAM wants an MFA code to change this key\nwork: rotated AKIA…1234 → AKIA…5678, also in default, legacy (AWS config)\ndefault: rotated AKIA…1234 → AKIA…5678, also in legacy (AWS config)\n');
    expect(err()).toBe('');
  });

  it('reports the refusal and exits 1 when no code is given', async () => {
    const { ctx, err } = context(async () => ({ outcomes: [failedMfa] }), async () => 'abc');
    expect(await runRotate(ctx, { profiles: ['default'], force: false, mfaCode: undefined })).toBe(ExitCode.failed);
    expect(err()).toBe('keyupctl: default: an MFA code is six digits; not rotated.\nkeyupctl: default: IAM demands MFA to change the keys of alice. Give the code with --mfa-code.\n');
  });

  it('after a refused code, names the device again, and says why when no second code comes', async () => {
    const device = 'arn:aws:iam::123456789012:mfa/alice';
    const needs: WireOutcome = { ...failedMfa, error: { ...failedMfa.error, message: `IAM lets user alice change access keys only with MFA, so profile default needs a code from the MFA device ${device} to rotate.` } };
    const refused: WireOutcome = { kind: 'failed', profile: 'default', error: { code: 'mfa-code-refused', message: `AWS refused the MFA code for the device ${device}: it is not the one the device shows now, or it was used already; nothing was changed.`, hint: 'Run keyupctl rotate now --profile default again with the next code the device shows (a code works only once).' }, notes: [] };
    const answers = ['111111', ''];
    const questions: string[] = [];
    let calls = 0;
    const { ctx, err } = context(
      async () => ({ outcomes: [calls++ === 0 ? needs : refused] }),
      async (question) => {
        questions.push(question);
        return answers.shift();
      },
    );
    expect(await runRotate(ctx, { profiles: ['default'], force: false, mfaCode: undefined })).toBe(ExitCode.failed);
    expect(questions).toEqual([`default: MFA code (${device}): `, `default: MFA code (${device}): `]);
    expect(err()).toBe(`keyupctl: default: ${refused.error.message} ${refused.error.hint}\n`);
  });

  it('does not ask when --mfa-code was given or nobody is at a terminal', async () => {
    let asked = false;
    const ask = async () => {
      asked = true;
      return '123456';
    };
    const given = context(async () => ({ outcomes: [failedMfa] }), ask);
    expect(await runRotate(given.ctx, { profiles: [], force: false, mfaCode: '654321' })).toBe(ExitCode.failed);
    const noTerminal = context(async () => ({ outcomes: [failedMfa] }), undefined);
    expect(await runRotate(noTerminal.ctx, { profiles: [], force: false, mfaCode: undefined })).toBe(ExitCode.failed);
    expect(asked).toBe(false);
  });
});
