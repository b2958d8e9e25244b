/**
 * post_rotate hooks in the rotation (issue 12), on the in-memory IAM and file system with a fake
 * hook runner: when they run, what a failure keeps, how a later run finishes, and the journal.
 * Then how a hook's output is cut into lines for the log with its secret replaced.
 */
import { describe, expect, it } from 'vitest';
import { createOutputLines, type HookResult, type HookRunner, type RunHookInit } from '../../src/rotation/hooks.js';
import { createUnitHarness, defaultSettings, profileSection } from '../support/unit-harness.js';

const hooks = [
  { command: '~/bin/push-to-github', argv: ['/home/alice/bin/push-to-github'] },
  { command: '/usr/bin/env update-dotenv', argv: ['/usr/bin/env', 'update-dotenv'] },
];
const settings = { ...defaultSettings, postRotate: hooks };

/** A runner that records each call, what IAM held at that moment, and answers as told. */
function fakeRunner(answer: (init: RunHookInit, call: number) => HookResult, seen: (init: RunHookInit) => void = () => {}) {
  const calls: RunHookInit[] = [];
  const runHook: HookRunner = async (init) => {
    calls.push(init);
    seen(init);
    return answer(init, calls.length);
  };
  return { runHook, calls };
}

describe('post_rotate hooks in a rotation', () => {
  it('run in order after the new key is written and before the old one is retired, with the new key', async () => {
    const keysDuringHooks: string[][] = [];
    let fileDuringHooks = '';
    const runner = fakeRunner(
      () => ({ ok: true, elapsedMs: 5 }),
      () => {
        keysDuringHooks.push(h.keysOf('alice').filter((key) => key.status === 'Active').map((key) => key.accessKeyId));
        void h.readCredentials().then((text) => (fileDuringHooks = text));
      },
    );
    const h = createUnitHarness({ runHook: runner.runHook });
    const old = h.seedUser('alice');
    await h.writeCredentials(profileSection('default', old));
    const outcome = await h.rotate({ settings });
    expect(outcome).toMatchObject({ kind: 'rotated' });
    const fresh = outcome.kind === 'rotated' ? outcome.newKeyId : '';
    expect(runner.calls.map((call) => call.hook.command)).toEqual(hooks.map((hook) => hook.command));
    // While they ran, both keys worked and the file already held the new one.
    expect(keysDuringHooks).toEqual([
      [old.accessKeyId, fresh],
      [old.accessKeyId, fresh],
    ]);
    expect(fileDuringHooks).toContain(fresh);
    expect(runner.calls[0]).toMatchObject({ facts: { profile: 'default', user: 'alice', oldKeyId: old.accessKeyId, newKeyId: fresh }, secret: { accessKeyId: fresh } });
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([fresh]);
  });

  it('a failing hook keeps the old key active and says which hook; the next run runs them again, then retires', async () => {
    const runner = fakeRunner((init, call) => (call === 2 ? { ok: false, elapsedMs: 7, why: 'it exited with code 1' } : { ok: true, elapsedMs: 3 }));
    const h = createUnitHarness({ runHook: runner.runHook });
    const old = h.seedUser('alice');
    await h.writeCredentials(profileSection('default', old));
    const failed = await h.rotate({ settings });
    expect(failed).toMatchObject({ kind: 'failed', error: { code: 'hook-failed' } });
    expect(failed.kind === 'failed' && failed.error.message).toBe(
      `The post_rotate hook 2 of 2 (/usr/bin/env update-dotenv) failed (it exited with code 1), so keyup keeps the old key AKIA…${old.accessKeyId.slice(-4)} active beside the new one.`,
    );
    const keys = h.keysOf('alice');
    expect(keys).toHaveLength(2);
    expect(keys.every((key) => key.status === 'Active')).toBe(true);
    // The next check: the hooks again (all of them), then the old key goes; no new key is made.
    const creates = h.fake.control.countCalls('CreateAccessKey');
    const finished = await h.rotate({ settings });
    expect(finished).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    expect(runner.calls.map((call) => call.hook.command)).toEqual([hooks[0]?.command, hooks[1]?.command, hooks[0]?.command, hooks[1]?.command]);
    expect(h.fake.control.countCalls('CreateAccessKey')).toBe(creates);
    expect(h.keysOf('alice')).toHaveLength(1);
  });

  it('after the hooks succeeded, a stop before retirement resumes with retirement only', async () => {
    const stop = new AbortController();
    const runner = fakeRunner(() => {
      return { ok: true, elapsedMs: 1 };
    });
    const h = createUnitHarness({ runHook: runner.runHook });
    const old = h.seedUser('alice');
    await h.writeCredentials(profileSection('default', old));
    // Stopped right after the last hook, before retirement.
    const first = await h.rotate({ settings, signal: stop.signal, onStep: (step, _text, data) => step === 'hook' && data.ok === true && data.index === 2 && stop.abort() });
    expect(first).toMatchObject({ kind: 'failed', error: { code: 'aborted' } });
    expect(h.keysOf('alice')).toHaveLength(2);
    expect(JSON.parse([...h.stateFiles()].find(([path]) => path.includes('/journal/'))?.[1] ?? '{}')).toMatchObject({ step: 'hooked', hooks });
    const again = await h.rotate({ settings });
    expect(again).toMatchObject({ kind: 'rotated' });
    expect(runner.calls).toHaveLength(2);
    expect(h.keysOf('alice')).toHaveLength(1);
  });

  it('runs the hooks the rotation began with, even if the configuration changed since', async () => {
    const runner = fakeRunner((_init, call) => (call === 1 ? { ok: false, elapsedMs: 1, why: 'it exited with code 1' } : { ok: true, elapsedMs: 1 }));
    const h = createUnitHarness({ runHook: runner.runHook });
    const old = h.seedUser('alice');
    await h.writeCredentials(profileSection('default', old));
    await h.rotate({ settings: { ...defaultSettings, postRotate: [hooks[0]!] } });
    await h.rotate({ settings: { ...defaultSettings, postRotate: [] } });
    expect(runner.calls.map((call) => call.hook.command)).toEqual([hooks[0]?.command, hooks[0]?.command]);
    expect(h.keysOf('alice')).toHaveLength(1);
  });

  it('tells each hook and its result as a step', async () => {
    const runner = fakeRunner(() => ({ ok: true, elapsedMs: 1_234 }));
    const h = createUnitHarness({ runHook: runner.runHook });
    await h.writeCredentials(profileSection('default', h.seedUser('alice')));
    const steps: string[] = [];
    await h.rotate({ settings, onStep: (step, text) => step === 'hook' && steps.push(text) });
    expect(steps).toEqual([
      'Running the post_rotate hook 1 of 2 (~/bin/push-to-github).',
      'The post_rotate hook 1 of 2 (~/bin/push-to-github) succeeded in 1.2 s.',
      'Running the post_rotate hook 2 of 2 (/usr/bin/env update-dotenv).',
      'The post_rotate hook 2 of 2 (/usr/bin/env update-dotenv) succeeded in 1.2 s.',
    ]);
  });

  it('without hooks, nothing changes: no hooked step, no runner needed', async () => {
    const h = createUnitHarness();
    await h.writeCredentials(profileSection('default', h.seedUser('alice')));
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
  });
});

describe('a hook’s output in the log', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYNEWSECRET';
  /** Output without a newline is passed on once more than this much is waiting. */
  const limit = 8_000;

  function collect(pieces: readonly string[]): string[] {
    const lines: string[] = [];
    const output = createOutputLines([secret], (line) => lines.push(line));
    for (const piece of pieces) output.write(piece);
    output.end();
    return lines;
  }

  /** Every run of 8 characters of the secret, so that no part of it long enough to matter gets out. */
  const partsOfSecret = Array.from({ length: secret.length - 7 }, (_, at) => secret.slice(at, at + 8));

  it('replaces the secret in lines, wherever the pieces are cut', () => {
    const text = `pushed ${secret}\r\nwarning: ${secret} again\nlast ${secret}`;
    for (let cut = 0; cut <= text.length; cut++) {
      expect(collect([text.slice(0, cut), text.slice(cut)])).toEqual(['pushed [secret]', 'warning: [secret] again', 'last [secret]']);
    }
  });

  it('keeps a secret whole when long output without a newline is passed on in the middle of it, at every cut', () => {
    // Regression: the flush at 8,000 characters sent a secret cut by it out in two pieces, and
    // neither piece matched the secret, so neither was replaced.
    for (let inSecret = 0; inSecret <= secret.length; inSecret++) {
      const lines = collect(['x'.repeat(limit + 1 - inSecret) + secret.slice(0, inSecret), `${secret.slice(inSecret)} and the rest`]);
      const log = lines.join('\n');
      for (const part of partsOfSecret) expect(log, `secret cut after ${inSecret} characters`).not.toContain(part);
      expect(lines.at(-1)).toMatch(/^x*\[secret\] and the rest$/);
    }
  });

  it('passes long output on as it arrives, in small pieces too, and no secret gets out', () => {
    const lines: string[] = [];
    const output = createOutputLines([secret], (line) => lines.push(line));
    const text = `${'x'.repeat(limit - 20)}${secret}${'y'.repeat(limit - 30)}${secret}${'z'.repeat(2 * limit)}`;
    for (let at = 0; at < text.length; at += 97) output.write(text.slice(at, at + 97));
    // 32,000 characters: three parts of about 8,000 have gone out before the end, so little waits in memory.
    expect(lines).toHaveLength(3);
    output.end();
    const log = lines.join('\n');
    for (const part of partsOfSecret) expect(log).not.toContain(part);
  });
});
