/**
 * The Engine (issue 8) on memfs, the in-memory KeyApi and a clock whose sleeps take no time:
 * concurrent profiles, joins, rotate-now against a check in flight, one key held by two
 * profiles, the view, usage errors and the end-of-run release. The same engine against the
 * emulator through the real SDK is test/engine/engine.test.ts.
 */
import { performance } from 'node:perf_hooks';
import { KeyupError } from '../../src/errors.js';
import { describe, expect, it } from 'vitest';
import type { KeyApi } from '../../src/aws/key-api.js';
import { DEFAULT_KEEP_CLIENTS_MS } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import type { Outcome } from '../../src/engine/outcome.js';
import type { FakeSeededKey } from '../support/fake-key-api.js';
import { createUnitHarness, DAY_MS, profileSection, SECOND_MS, type UnitHarness } from '../support/unit-harness.js';

/** A user with one key of `ageDays`, in a profile appended to the credentials file. */
async function seedProfile(h: UnitHarness, profile: string, userName: string, ageDays = 100, init: { deniedActions?: string[] } = {}): Promise<FakeSeededKey> {
  const key = h.seedUser(userName, ageDays, init);
  await appendCredentials(h, profileSection(profile, key));
  return key;
}

async function appendCredentials(h: UnitHarness, text: string): Promise<void> {
  const before = await h.readCredentials().catch(() => '');
  await h.writeCredentials(`${before}${before === '' ? '' : '\n'}${text}`);
}

function expectPlain(value: unknown) {
  expect(JSON.parse(JSON.stringify(value))).toEqual(value);
}

const createCalls = (h: UnitHarness) => h.fake.control.countCalls('CreateAccessKey');
const stepsOf = (events: readonly EngineEvent[]) => events.flatMap((event) => (event.type === 'step' ? [event.step] : []));

/** Resolves once `condition` holds, checking after every turn of the event loop; fails after `ms` of real time. */
async function waitFor(what: string, condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('Engine on the fake', () => {
  it('rotates different profiles at the same time: their steps interleave, one end each', async () => {
    const h = createUnitHarness({ activationDelayMs: 3 * SECOND_MS });
    await seedProfile(h, 'alice', 'alice');
    await seedProfile(h, 'bob', 'bob');
    const engine = h.createEngine('[profile alice]\n[profile bob]\n');
    const events: EngineEvent[] = [];
    const started = performance.now();
    const outcomes = await engine.run({ onEvent: (event) => events.push(event) });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcomes.map((outcome) => [outcome.profile, outcome.kind])).toEqual([
      ['alice', 'rotated'],
      ['bob', 'rotated'],
    ]);
    expectPlain(outcomes);
    expectPlain(events);
    // Both had made their new key before either ended.
    const firstEnd = events.findIndex((event) => event.type === 'end');
    const createdBefore = events.slice(0, firstEnd).filter((event) => event.type === 'step' && event.step === 'create' && event.data.newKeyId !== undefined);
    expect(new Set(createdBefore.map((event) => event.profile))).toEqual(new Set(['alice', 'bob']));
    expect(events.filter((event) => event.type === 'end').map((event) => event.profile).sort()).toEqual(['alice', 'bob']);
    for (const user of ['alice', 'bob']) expect(h.keysOf(user)).toHaveLength(1);
  });

  it('joins a second request for a profile in flight: one rotation, the same outcome, only the progress after it joined', async () => {
    const h = createUnitHarness({ activationDelayMs: 3 * SECOND_MS });
    await seedProfile(h, 'default', 'alice');
    const engine = h.createEngine();
    const firstEvents: EngineEvent[] = [];
    const secondEvents: EngineEvent[] = [];
    const statesInFlight: string[] = [];
    let second: Promise<Outcome[]> | undefined;
    const first = engine.run({
      rotateNow: true,
      onEvent: (event) => {
        firstEvents.push(event);
        // Joined while the new key is being verified.
        if (second === undefined && event.type === 'step' && event.step === 'verify') {
          statesInFlight.push(engine.view()[0]?.state ?? '');
          second = engine.run({ rotateNow: true, onEvent: (joined) => secondEvents.push(joined) });
        }
      },
    });
    const a = await first;
    const b = await second;
    expect(a).toEqual(b);
    expect(a).toMatchObject([{ kind: 'rotated' }]);
    expect(createCalls(h)).toBe(1);
    expect(statesInFlight).toEqual(['rotating']);
    expect(secondEvents.at(-1)).toEqual({ type: 'end', profile: 'default', elapsedMs: expect.any(Number), outcome: a[0] });
    expect(stepsOf(secondEvents)).not.toContain('identify');
    expect(stepsOf(secondEvents)).not.toContain('create');
    expect(stepsOf(secondEvents)).toContain('write');
    // Everything the joiner saw, the first saw too, at its end.
    expect(firstEvents.slice(-secondEvents.length)).toEqual(secondEvents);
    expect(firstEvents.length).toBeGreaterThan(secondEvents.length);
    // Nothing released while either ran: the clients outlive the last of the two (see keepClientsMs).
    expect(h.fake.control.releaseCount()).toBe(0);
  });

  it('fails each profile with the reason when the AWS side cannot load, and loads it again at the next run', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'default', 'alice', 10);
    let loads = 0;
    const engine = h.createEngine('', {
      loadKeyApi: async () => {
        if (++loads === 1) throw new KeyupError('The AWS config file does not parse.', { code: 'credentials-file' });
        return h.fake.keyApi;
      },
    });
    expect(await engine.run({})).toMatchObject([{ kind: 'failed', profile: 'default', error: { code: 'credentials-file', message: 'The AWS config file does not parse.' } }]);
    expect(engine.view()).toMatchObject([{ profile: 'default', error: { code: 'credentials-file' } }]);
    expect(await engine.run({})).toMatchObject([{ kind: 'current', ageDays: 10 }]);
    expect(await engine.run({})).toMatchObject([{ kind: 'current' }]);
    expect(loads).toBe(2);
  });

  it('makes rotate now wait for a scheduled check in flight instead of joining it, then rotate', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'default', 'alice', 10);
    // The check is held at its ListAccessKeys until rotate now has come in.
    let held = false;
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const keyApi: KeyApi = {
      ...h.fake.keyApi,
      async listAccessKeys(ctx, userName) {
        if (!held) {
          held = true;
          await gate;
        }
        return h.fake.keyApi.listAccessKeys(ctx, userName);
      },
    };
    const engine = h.createEngine('', { loadKeyApi: async () => keyApi });
    const checkEvents: EngineEvent[] = [];
    const nowEvents: EngineEvent[] = [];
    const check = engine.run({ onEvent: (event) => checkEvents.push(event) });
    await waitFor('the check to reach ListAccessKeys', () => held);
    const rotateNow = engine.run({ rotateNow: true, onEvent: (event) => nowEvents.push(event) });
    // memfs, the fake KeyApi and the fake clock all answer in microtasks: after one turn of the
    // event loop, rotate now has gone as far as it can, to the check in flight.
    await new Promise((resolve) => setImmediate(resolve));
    expect(nowEvents).toEqual([]);
    open();

    expect(await check).toMatchObject([{ kind: 'current', ageDays: 10 }]);
    const [outcome] = await rotateNow;
    expect(outcome).toMatchObject({ kind: 'rotated' });
    expect(createCalls(h)).toBe(1);
    // Its own rotation from the first step, and none of the check's events.
    expect(stepsOf(nowEvents)[0]).toBe('identify');
    expect(nowEvents.filter((event) => event.type === 'end')).toEqual([expect.objectContaining({ outcome })]);
    expect(stepsOf(checkEvents)).not.toContain('create');
  });

  it('rotates a key two managed profiles hold once, and the second finds it made in this check (hole 15)', async () => {
    const h = createUnitHarness();
    const key = await seedProfile(h, 'default', 'alice');
    await appendCredentials(h, profileSection('copy', key));
    // max_age_days = 0: every key is due at every check, the new one too, unless known as made in this check.
    const outcomes = await h.createEngine('[keyup]\nmax_age_days = 0\n[profile default]\n[profile copy]\n').run();
    const [fresh] = h.keysOf('alice');
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 'rotated', profile: 'default', oldKeyId: key.accessKeyId, newKeyId: fresh?.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }, { file: 'credentials', profile: 'copy' }] }),
      expect.objectContaining({ kind: 'current', profile: 'copy', keyId: fresh?.accessKeyId }),
    ]);
    expect(createCalls(h)).toBe(1);
    expect(h.keysOf('alice')).toHaveLength(1);
  });

  it('gives the view of every profile, worked out at the moment of asking, without asking AWS', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'fresh', 'fresh', 10);
    await seedProfile(h, 'aging', 'aging', 85);
    await seedProfile(h, 'later', 'later', 100);
    await seedProfile(h, 'broken', 'broken', 100, { deniedActions: ['iam:CreateAccessKey'] });
    const taken = await seedProfile(h, 'taken', 'taken', 100);
    // bob's session defers every due profile that honours sessions.
    const bob = h.seedUser('bob', 1);
    const session = h.fake.control.createSession({ accessKeyId: bob.accessKeyId });
    await appendCredentials(
      h,
      `[work-session]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\naws_expiration = ${session.expiration.toISOString()}\n`,
    );
    // Another keyup process is rotating taken's key.
    await h.holdLockAsOtherProcess(taken.accessKeyId, 'taken', 4_242);
    const engine = h.createEngine(
      '[keyup]\nmax_age_days = 90\nwarn_age_days = 80\n[profile fresh]\n[profile aging]\n[profile later]\n[profile broken]\ndefer_on_sessions = false\n[profile taken]\ndefer_on_sessions = false\n',
    );
    expect(engine.view().map((view) => [view.profile, view.state, view.keyId])).toEqual(['fresh', 'aging', 'later', 'broken', 'taken'].map((name) => [name, 'ok', null]));

    const outcomes = await engine.run();
    expect(outcomes.map((outcome) => [outcome.profile, outcome.kind])).toEqual([
      ['fresh', 'current'],
      ['aging', 'current'],
      ['later', 'deferred'],
      ['broken', 'failed'],
      ['taken', 'busy'],
    ]);
    const calls = h.fake.control.countCalls();
    const loads = h.keyApiLoads();

    const views = engine.view();
    expectPlain(views);
    expect(views).toMatchObject([
      { profile: 'fresh', user: 'fresh', state: 'ok', keyAgeDays: 10, maxAgeDays: 90, warnAgeDays: 80, error: null, deferredBy: null },
      { profile: 'aging', user: 'aging', state: 'warn', keyAgeDays: 85 },
      { profile: 'later', user: 'later', state: 'deferred', deferredBy: 'work-session', deferredUntil: session.expiration.toISOString() },
      { profile: 'broken', user: null, state: 'error', error: { code: 'access-denied' }, lastRotation: { ok: false, newKeyId: null } },
      { profile: 'taken', state: 'busy' },
    ]);
    // Six days on, with no check in between: aging is due, and the session has ended.
    h.clock.advance(6 * DAY_MS);
    expect(engine.view().map((view) => [view.profile, view.state, view.keyAgeDays])).toEqual([
      ['fresh', 'ok', 16],
      ['aging', 'due', 91],
      ['later', 'due', 106],
      ['broken', 'error', null],
      ['taken', 'busy', null],
    ]);
    expect(h.fake.control.countCalls()).toBe(calls);
    expect(h.keyApiLoads()).toBe(loads);
  });

  it("shows a failure the history recorded after another profile's failure had read it (history.json is read once a run)", async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'early', 'early', 100, { deniedActions: ['iam:ListAccessKeys'] });
    await seedProfile(h, 'late', 'late', 100, { deniedActions: ['iam:CreateAccessKey'] });
    const engine = h.createEngine('[profile early]\n[profile late]\n');
    const ends: string[] = [];
    const outcomes = await engine.run({ onEvent: (event) => event.type === 'end' && ends.push(event.profile) });
    expect(outcomes.map((outcome) => [outcome.profile, outcome.kind])).toEqual([
      ['early', 'failed'],
      ['late', 'failed'],
    ]);
    // early failed before it reached the lock (nothing recorded), late after asking for a key (recorded).
    expect(ends).toEqual(['early', 'late']);
    expect((await h.history()).map((record) => record.profile)).toEqual(['late']);
    expect(engine.view()).toMatchObject([
      { profile: 'early', state: 'error', lastRotation: null },
      { profile: 'late', state: 'error', lastRotation: { ok: false, newKeyId: null } },
    ]);
  });

  it('lists the keys of a profile with every profile that holds each, those of the AWS config said so', async () => {
    const h = createUnitHarness();
    const key = await seedProfile(h, 'default', 'alice', 10);
    await h.writeAwsConfig(`[profile legacy]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`);
    const engine = h.createEngine();
    const [listed] = await engine.keys();
    expect(listed).toMatchObject({ profile: 'default', user: 'alice', error: null, keys: [{ keyId: key.accessKeyId, inProfiles: ['default', 'legacy (AWS config)'], managed: true }] });
  });

  it('refuses a profile it does not manage, naming those it does, before loading the SDK or calling AWS', async () => {
    const h = createUnitHarness();
    const engine = h.createEngine('[profile default]\n[profile work]\n');
    await expect(engine.run({ profiles: ['nope'] })).rejects.toMatchObject({
      exitCode: 2,
      code: 'usage',
      message: 'keyup does not manage profile nope; it manages default, work.',
      hint: `Name one of those, or add a [profile NAME] section to ${h.paths.keyupConfigFile}.`,
    });
    expect(h.keyApiLoads()).toBe(0);
    expect(h.fake.control.countCalls()).toBe(0);
  });

  it('releases the KeyApi once at the end of each run when told to keep no clients, and loads it once', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'alice', 'alice', 10);
    await seedProfile(h, 'bob', 'bob', 100);
    const engine = h.createEngine('[profile alice]\n[profile bob]\n', { keepClientsMs: 0 });
    const releasedDuring: number[] = [];
    await engine.run({ onEvent: () => releasedDuring.push(h.fake.control.releaseCount()) });
    expect(new Set(releasedDuring)).toEqual(new Set([0]));
    expect(h.fake.control.releaseCount()).toBe(1);
    await engine.run({ profiles: ['alice'] });
    expect(h.fake.control.releaseCount()).toBe(2);
    expect(h.keyApiLoads()).toBe(1);
  });

  // Issue 8: a client costs milliseconds of CPU and a connection; checks that follow each other
  // (rotate now for one profile after another, a burst of requests) share them, and an idle
  // engine still holds none, and so no secret and no socket.
  it('keeps the AWS clients for a run that starts soon after, and releases them once idle', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'alice', 'alice', 10);
    const engine = h.createEngine('', { keepClientsMs: 50 });
    await engine.run();
    await engine.run();
    expect(h.fake.control.releaseCount()).toBe(0);
    await waitFor('the release, once idle', () => h.fake.control.releaseCount() === 1);
    await engine.run();
    await waitFor('the release after the next run', () => h.fake.control.releaseCount() === 2);
  });

  it('keeps the AWS clients a few seconds by default', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'alice', 'alice', 10);
    const engine = h.createEngine();
    await engine.run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(h.fake.control.releaseCount()).toBe(0);
    expect(DEFAULT_KEEP_CLIENTS_MS).toBeGreaterThanOrEqual(1_000);
  });

  it('keeps going when listeners throw: a subscriber is removed and said once in the log, the run completes', async () => {
    const h = createUnitHarness();
    await seedProfile(h, 'default', 'alice');
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
    expect(calls).toBe(2);
    expect(h.logs.filter((line) => line.msg === 'An event listener failed and was removed.')).toHaveLength(1);
    expect(h.keysOf('alice')).toHaveLength(1);
  });
});
