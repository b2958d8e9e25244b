/**
 * The engine a long-lived process uses (issue 8), against the emulator through the real SDK:
 * concurrency, joins, listeners that misbehave, aborts at every step, outcomes as data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyApi } from '../../src/aws/key-api.js';
import type { EngineEvent, Step } from '../../src/engine/events.js';
import type { Outcome } from '../../src/engine/outcome.js';
import { createEngineHarness, type EngineHarness } from '../support/engine-harness.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';

isolateAwsEnvironment();

describe('Engine', () => {
  let h: EngineHarness;
  afterEach(async () => {
    await h?.close();
  });

  /** After anything: the file's key works and is the user's only key; no lock, and the journal at most a safety copy. */
  async function expectSettled(profile: string, userName: string) {
    const inFile = await h.keyInFile(profile);
    expect(h.keysOf(userName).map((key) => [key.accessKeyId, key.secretAccessKey, key.status])).toEqual([[inFile?.accessKeyId, inFile?.secretAccessKey, 'Active']]);
    const state = await h.readStateFiles();
    expect([...state.keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
    for (const [path, text] of state) if (path.includes('/journal/')) expect(JSON.parse(text), path).toMatchObject({ step: 'retired' });
  }

  it('rotates different profiles at the same time', async () => {
    h = await createEngineHarness({ activationDelayMs: 300 });
    await h.seedProfile('alice', 'alice');
    await h.seedProfile('bob', 'bob');
    const engine = h.createEngine('[profile alice]\n[profile bob]\n');
    const events: EngineEvent[] = [];
    const outcomes = await engine.run({ onEvent: (event) => events.push(event) });
    expect(outcomes.map((outcome) => [outcome.profile, outcome.kind])).toEqual([
      ['alice', 'rotated'],
      ['bob', 'rotated'],
    ]);
    // Both were waiting for IAM to accept their new key before either ended.
    const firstEnd = events.findIndex((event) => event.type === 'end');
    const createdBefore = new Set(events.slice(0, firstEnd).filter((event) => event.type === 'step' && event.step === 'create' && event.data.newKeyId !== undefined).map((event) => event.profile));
    expect(createdBefore).toEqual(new Set(['alice', 'bob']));
    await expectSettled('alice', 'alice');
    await expectSettled('bob', 'bob');
  });

  it('joins a second request for a profile in flight: one rotation, the same outcome, the rest of its progress', async () => {
    h = await createEngineHarness({ activationDelayMs: 300 });
    await h.seedProfile('default', 'alice');
    const engine = h.createEngine();
    const firstEvents: EngineEvent[] = [];
    const secondEvents: EngineEvent[] = [];
    let second: Promise<Outcome[]> | undefined;
    const first = engine.run({
      rotateNow: true,
      onEvent: (event) => {
        firstEvents.push(event);
        // Joined while the new key is being verified.
        if (second === undefined && event.type === 'step' && event.step === 'verify') second = engine.run({ rotateNow: true, onEvent: (joined) => secondEvents.push(joined) });
      },
    });
    const [a, b] = [await first, await second];
    expect(a).toEqual(b);
    expect(a?.[0]?.kind).toBe('rotated');
    expect(h.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
    // The joiner saw the end of the progress, and no step from before it joined.
    expect(secondEvents.at(-1)).toMatchObject({ type: 'end', outcome: a?.[0] });
    expect(secondEvents.some((event) => event.type === 'step' && (event.step === 'identify' || event.step === 'create'))).toBe(false);
    expect(secondEvents.length).toBeGreaterThan(1);
    expect(firstEvents.length).toBeGreaterThan(secondEvents.length);
  });

  it('a listener that throws at every step changes nothing: the rotation completes and one key is left', async () => {
    h = await createEngineHarness();
    await h.seedProfile('default', 'alice');
    const engine = h.createEngine();
    let calls = 0;
    engine.subscribe(() => {
      calls++;
      throw new Error('a client that went away');
    });
    const outcomes = await engine.run({
      onEvent: () => {
        calls++;
        throw new Error('another one');
      },
    });
    expect(outcomes).toMatchObject([{ kind: 'rotated' }]);
    expect(calls).toBeGreaterThan(1);
    await expectSettled('default', 'alice');
  });

  it('makes no more AWS calls per rotation than it needs: seven', async () => {
    h = await createEngineHarness();
    await h.seedProfile('default', 'alice');
    await h.createEngine().run();
    // GetCallerIdentity (whose key), ListAccessKeys (its age), CreateAccessKey, three
    // GetCallerIdentity with the new key (seen working three times in a row), DeleteAccessKey.
    expect(h.emulator.getCallLog().map((call) => call.action)).toEqual([
      'GetCallerIdentity',
      'ListAccessKeys',
      'CreateAccessKey',
      'GetCallerIdentity',
      'GetCallerIdentity',
      'GetCallerIdentity',
      'DeleteAccessKey',
    ]);
  });

  it('refuses to rotate a profile it does not manage, naming those it does', async () => {
    h = await createEngineHarness();
    const engine = h.createEngine('[profile default]\n[profile work]\n');
    await expect(engine.run({ profiles: ['nope'] })).rejects.toMatchObject({ exitCode: 2, message: 'keyup does not manage profile nope; it manages default, work.' });
  });

  it('gives the view of every profile without asking AWS', async () => {
    h = await createEngineHarness();
    await h.seedProfile('default', 'alice', 30);
    const engine = h.createEngine('[keyup]\nmax_age_days = 90\nwarn_age_days = 20\n[profile default]\n');
    expect(engine.view()).toMatchObject([{ profile: 'default', state: 'ok', keyId: null }]);
    await engine.run();
    const calls = h.emulator.getCallLog().length;
    const [view] = engine.view();
    expect(view).toMatchObject({ profile: 'default', user: 'alice', state: 'warn', maxAgeDays: 90, error: null });
    expect(view?.keyAgeDays).toBeCloseTo(30, 0);
    expect(h.emulator.getCallLog()).toHaveLength(calls);
  });

  describe('stopped (aborted) at each step, then run again', () => {
    const steps: Step[] = ['identify', 'assess', 'create', 'verify', 'write', 'retire'];
    it.each(steps)('at %s: the next run finishes it, and leaves a working key, no orphan, no journal but the safety copy', async (step) => {
      h = await createEngineHarness({ activationDelayMs: 200 });
      await h.seedProfile('default', 'alice');
      const engine = h.createEngine();
      const stop = new AbortController();
      const first = await engine.run({
        rotateNow: true,
        signal: stop.signal,
        onEvent: (event) => {
          if (event.type === 'step' && event.step === step) stop.abort();
        },
      });
      expect(first).toHaveLength(1);
      if (first[0]?.kind === 'failed') expect(first[0].error.code).toBe('aborted');
      const again = await engine.run({ rotateNow: first[0]?.kind !== 'rotated' });
      expect(again[0]?.kind === 'rotated' || again[0]?.kind === 'current', JSON.stringify(again)).toBe(true);
      await expectSettled('default', 'alice');
    });
  });

  it('ends a wait for IAM at once when aborted, rather than after the verification bound', async () => {
    h = await createEngineHarness({ activationDelayMs: 60_000 });
    await h.seedProfile('default', 'alice');
    const engine = h.createEngine();
    const stop = new AbortController();
    const started = Date.now();
    const run = engine.run({ signal: stop.signal, onEvent: (event) => event.type === 'step' && event.step === 'verify' && event.data.outcome === 'refused' && stop.abort() });
    const [outcome] = await run;
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'aborted' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    // Resumable: the journal holds the new key at `created`.
    const state = await h.readStateFiles();
    expect(JSON.parse([...state].find(([path]) => path.includes('/journal/'))?.[1] ?? '{}')).toMatchObject({ step: 'created' });
  });

  it('passes each call through the KeyApi it was given, so tests can count and fault them', async () => {
    h = await createEngineHarness();
    await h.seedProfile('default', 'alice', 10);
    const seen: string[] = [];
    const sdk = (await import('../../src/aws/sdk-key-api.js')).createSdkKeyApi({ iamEndpoint: h.emulator.endpoint, stsEndpoint: h.emulator.endpoint });
    const counting: KeyApi = { ...sdk, getCallerIdentity: (ctx) => (seen.push('sts'), sdk.getCallerIdentity(ctx)), listAccessKeys: (ctx, user) => (seen.push('iam'), sdk.listAccessKeys(ctx, user)) };
    expect(await h.createEngine('', { keyApi: counting }).run()).toMatchObject([{ kind: 'current' }]);
    expect(seen).toEqual(['sts', 'iam']);
    sdk.release?.();
  });
});

describe('Outcomes are plain JSON', () => {
  const notes = ['Deleted the inactive key AKIA…0001 of user alice to make room for the new key.'];
  const checked = { profile: 'default', user: 'alice', account: '123456789012', keyId: 'AKIAAAAAAAAAAAAA0001', keyCreated: '2026-01-01T00:00:00.000Z', ageDays: 100, maxAgeDays: 90, ageState: 'due' as const };
  const every: Outcome[] = [
    { kind: 'current', ...checked, ageState: 'ok', notes: [] },
    { kind: 'deferred', ...checked, deferral: { reason: 'active-session', profile: 'work', until: '2026-12-01T09:00:00.000Z' }, notes: [] },
    { kind: 'deferred', ...checked, deferral: { reason: 'sts-unreachable', profile: 'work', until: null }, notes: [] },
    { kind: 'rotated', profile: 'default', user: 'alice', account: '123456789012', oldKeyId: 'AKIAAAAAAAAAAAAA0001', newKeyId: 'AKIAAAAAAAAAAAAA0002', keyCreated: '2026-12-01T07:00:00.000Z', holders: [{ file: 'credentials', profile: 'default' }, { file: 'config', profile: 'legacy' }], notes },
    { kind: 'failed', profile: 'default', error: { code: 'second-active-key', message: 'User alice already has a second active key.', hint: 'Deactivate it.' }, notes },
    { kind: 'busy', profile: 'default', pid: 4242, rotating: 'copy', since: '2026-12-01T07:00:00.000Z', notes: [] },
  ];
  it.each(every.map((outcome) => [`${outcome.kind}${outcome.kind === 'deferred' ? ` (${outcome.deferral.reason})` : ''}`, outcome] as const))('%s survives a JSON round trip unchanged', (_kind, outcome) => {
    expect(JSON.parse(JSON.stringify(outcome))).toEqual(outcome);
  });

  it('keeps the cause of a failure out of JSON', async () => {
    const { toErrorInfo, getErrorCause } = await import('../../src/engine/outcome.js');
    const { KeyupError } = await import('../../src/errors.js');
    const cause = Object.assign(new Error('raw SDK error with request details'), { $response: { body: 'secret-ish' } });
    const error = new KeyupError('It failed.', { code: 'aws-error', hint: 'Try again.', cause });
    const info = toErrorInfo(error);
    expect(JSON.stringify(info)).toBe('{"code":"aws-error","message":"It failed.","hint":"Try again."}');
    expect(getErrorCause(info)?.cause).toBe(cause);
  });
});
