/**
 * The rotation engine on nothing real: memfs for every file, the typed in-memory KeyApi for IAM
 * and STS, and a clock whose sleeps advance time at once. A unit test of the Rotator or the
 * Engine waits for nothing (issue 8); the emulator and the SDK keep the integration tests.
 */
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/index.js';
import { CredentialsStore } from '../../src/credentials/index.js';
import { Engine, type EngineInit } from '../../src/engine/engine.js';
import type { Outcome } from '../../src/engine/outcome.js';
import type { FileSystem } from '../../src/fs/fs.js';
import { createLogger, type Logger } from '../../src/log.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import type { CredentialsFile } from '../../src/rotation/credentials-file.js';
import { History, type RotationRecord } from '../../src/rotation/history.js';
import { Journal } from '../../src/rotation/journal.js';
import type { HookRunner } from '../../src/rotation/hooks.js';
import { KeyLocks, type HeldLock } from '../../src/rotation/lock.js';
import { Rotator, type RotateRequest, type RotationSettings, type RotatorDeps } from '../../src/rotation/rotator.js';
import { createCredentialsFile } from '../../src/rotation/store-adapter.js';
import { createFakeKeyApi, type FakeKeyApi, type FakeKeyApiInit, type FakeSeededKey } from './fake-key-api.js';
import { createMemoryFs } from './memfs.js';
import { DAY_MS } from './time.js';

// The unit tests take DAY_MS from here with the other clock constants.
export { DAY_MS };
export const START = new Date('2026-11-24T07:00:00.000Z');
export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOME = '/home/alice';
/** The pid of "this" keyup process; other processes are given other pids. */
export const THIS_PID = 1_000;

export const defaultSettings: RotationSettings = { maxAgeDays: 90, warnAgeDays: 80, oldKey: 'delete', deferOnSessions: true };

/**
 * A clock that moves only when told to or when the code under test sleeps: a sleep advances it
 * by its length at once. As the real `sleep`, an aborted signal rejects with its reason.
 */
export interface TestClock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  advance(ms: number): void;
  /** Every sleep asked for, in order. */
  readonly sleeps: readonly number[];
  /** How far the clock has moved since it was made. */
  elapsedMs(): number;
}

export function createTestClock(start = START): TestClock {
  let nowMs = start.getTime();
  const sleeps: number[] = [];
  return {
    now: () => new Date(nowMs),
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      nowMs += ms;
    },
    advance(ms) {
      nowMs += ms;
    },
    sleeps,
    elapsedMs: () => nowMs - start.getTime(),
  };
}

/** A profile section as `aws configure` writes it. */
export function profileSection(name: string, key: { accessKeyId: string; secretAccessKey: string }): string {
  return `[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`;
}

export interface UnitHarnessInit extends Pick<FakeKeyApiInit, 'skewMs' | 'activationDelayMs'> {
  /** Jitter of retries and verification; default 0.5 (the middle of every backoff). */
  random?: () => number;
  verifyInit?: RotatorDeps['verifyInit'];
  /** Wraps memfs, to make chosen operations fail (see test/credentials/support.ts `hookFs`). */
  wrapFs?: (fs: FileSystem) => FileSystem;
  /** Wraps the credentials file as the rotator sees it, to interleave another writer with keyup's. */
  wrapCredentials?: (file: CredentialsFile) => CredentialsFile;
  /** Runs post_rotate hooks (a fake in unit tests). */
  runHook?: HookRunner;
}

export interface UnitHarness {
  readonly clock: TestClock;
  /** The in-memory IAM and STS: `fake.keyApi` for calls, `fake.control` for state, faults and the call log. */
  readonly fake: FakeKeyApi;
  /** What keyup sees: memfs, wrapped as the test asked. */
  readonly fs: FileSystem;
  /** memfs itself, unwrapped: what another program would write. */
  readonly rawFs: FileSystem;
  readonly paths: KeyupPaths;
  /** Pids the harness's processes count as running; THIS_PID is one. */
  readonly alive: Set<number>;
  /** Every log line, parsed. */
  readonly logs: Record<string, unknown>[];
  readonly logger: Logger;
  readonly rotator: Rotator;
  readonly journal: Journal;
  /** The rotator's `rotate` with profile `default` and {@link defaultSettings} unless the request says otherwise. */
  rotate(request?: Partial<RotateRequest>): Promise<Outcome>;
  /** A user with one key `ageDays` old by IAM's clock. */
  seedUser(userName: string, ageDays?: number, init?: { admin?: boolean; path?: string; deniedActions?: readonly string[] }): FakeSeededKey;
  /** A key `ageDays` old by IAM's clock. */
  seedKey(userName: string, ageDays: number, init?: { status?: 'Active' | 'Inactive' }): FakeSeededKey;
  writeCredentials(text: string): Promise<void>;
  readCredentials(): Promise<string>;
  writeAwsConfig(text: string): Promise<void>;
  readAwsConfig(): Promise<string>;
  /** The IAM keys of a user: id, secret and status. */
  keysOf(userName: string): { accessKeyId: string; secretAccessKey: string; status: string }[];
  /** Every file under the state folder, with its text. */
  stateFiles(): Map<string, string>;
  history(): Promise<RotationRecord[]>;
  /** Another keyup process, alive, with `pid`, holding the lock of `keyId` for `profile`. */
  holdLockAsOtherProcess(keyId: string, profile: string, pid?: number): Promise<HeldLock>;
  /** An engine on these files and this fake, configured by the keyup config `text`. */
  createEngine(text?: string, init?: Partial<EngineInit>): Engine;
  /** How many times an engine asked for its KeyApi. */
  keyApiLoads(): number;
}

export function createUnitHarness(init: UnitHarnessInit = {}): UnitHarness {
  const clock = createTestClock();
  const fake = createFakeKeyApi({ now: clock.now, ...(init.skewMs === undefined ? {} : { skewMs: init.skewMs }), ...(init.activationDelayMs === undefined ? {} : { activationDelayMs: init.activationDelayMs }) });
  const { fs: rawFs, vol } = createMemoryFs();
  const fs = init.wrapFs?.(rawFs) ?? rawFs;
  const paths = resolvePaths({ env: {}, home: HOME });
  const alive = new Set([THIS_PID]);
  const random = init.random ?? (() => 0.5);

  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ destination, level: 'debug', timestamp: false });

  // No /proc and no signals: whether a pid runs is the `alive` set, so another keyup process is just another pid.
  const createLocks = (pid: number) => new KeyLocks({ fs, stateDir: paths.stateDir, pid, now: clock.now, isAlive: (other) => alive.has(other), readProcessStart: async () => undefined });
  const journal = new Journal({ fs, stateDir: paths.stateDir });
  const store = new CredentialsStore({ fs, paths, clock });
  const credentials = createCredentialsFile(store, paths.credentialsFile);
  const rotator = new Rotator({
    keyApi: fake.keyApi,
    credentials: init.wrapCredentials?.(credentials) ?? credentials,
    journal,
    history: new History({ fs, stateDir: paths.stateDir }),
    locks: createLocks(THIS_PID),
    logger,
    now: clock.now,
    sleep: clock.sleep,
    random,
    ...(init.verifyInit === undefined ? {} : { verifyInit: init.verifyInit }),
    ...(init.runHook === undefined ? {} : { runHook: init.runHook }),
  });

  // Written as another program would write them: straight to memfs, whatever keyup's fs does.
  const writeFile = async (path: string, text: string) => {
    vol.mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    vol.writeFileSync(path, text, { mode: 0o600 });
  };
  const readFile = async (path: string) => vol.readFileSync(path, 'utf8') as string;
  const seedKey = (userName: string, ageDays: number, { status = 'Active' }: { status?: 'Active' | 'Inactive' } = {}) =>
    fake.control.createAccessKey({ userName, status, createDate: new Date(fake.control.iamNow().getTime() - ageDays * DAY_MS) });
  let loads = 0;

  return {
    clock,
    fake,
    fs,
    rawFs,
    paths,
    alive,
    logs,
    logger,
    rotator,
    journal,
    rotate: (request = {}) => rotator.rotate({ profile: 'default', settings: defaultSettings, ...request }),
    seedUser(userName, ageDays = 100, userInit = {}) {
      fake.control.createUser({ userName, ...userInit });
      return seedKey(userName, ageDays);
    },
    seedKey,
    writeCredentials: (text) => writeFile(paths.credentialsFile, text),
    readCredentials: () => readFile(paths.credentialsFile),
    writeAwsConfig: (text) => writeFile(paths.awsConfigFile, text),
    readAwsConfig: () => readFile(paths.awsConfigFile),
    keysOf: (userName) =>
      fake.control
        .getState()
        .accessKeys.filter((key) => key.userName === userName)
        .map(({ accessKeyId, secretAccessKey, status }) => ({ accessKeyId, secretAccessKey, status })),
    stateFiles() {
      const files = new Map<string, string>();
      for (const [path, text] of Object.entries(vol.toJSON(paths.stateDir))) if (text !== null) files.set(path, text);
      return files;
    },
    history: () => new History({ fs: rawFs, stateDir: paths.stateDir }).read(),
    async holdLockAsOtherProcess(keyId, profile, pid = 4_242) {
      alive.add(pid);
      const taken = await createLocks(pid).acquire(keyId, profile);
      if (!('held' in taken)) throw new Error(`pid ${pid} could not take the lock of ${keyId}: ${JSON.stringify(taken.busy)}`);
      return taken.held;
    },
    createEngine(text = '', engineInit = {}) {
      const config = parseConfig(text, paths.keyupConfigFile, {}, HOME);
      return new Engine({
        fs,
        paths,
        config,
        logger,
        loadKeyApi: async () => {
          loads++;
          return fake.keyApi;
        },
        now: clock.now,
        sleep: clock.sleep,
        random,
        iamRate: null,
        locks: { pid: THIS_PID, isAlive: (other) => alive.has(other), readProcessStart: async () => undefined },
        ...(init.verifyInit === undefined ? {} : { verifyInit: init.verifyInit }),
        ...engineInit,
      });
    },
    keyApiLoads: () => loads,
  };
}
