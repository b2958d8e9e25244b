import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import type { KeyApi } from '../../src/aws/key-api.js';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { createLogger } from '../../src/log.js';
import * as nodeFs from 'node:fs';
import { CredentialsStore } from '../../src/credentials/index.js';
import type { Outcome } from '../../src/engine/outcome.js';
import type { FileSystem } from '../../src/fs/fs.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import type { CredentialsFile } from '../../src/rotation/credentials-file.js';
import { History } from '../../src/rotation/history.js';
import { Journal } from '../../src/rotation/journal.js';
import { KeyLocks } from '../../src/rotation/lock.js';
import { Rotator, type RotateRequest, type RotationSettings } from '../../src/rotation/rotator.js';
import { createCredentialsFile } from '../../src/rotation/store-adapter.js';
import { createTempHome, readTree, type TempHome } from './temp-home.js';

// The rotation tests take daysAgo from here.
export { daysAgo } from './time.js';

export const defaultSettings: RotationSettings = { maxAgeDays: 90, warnAgeDays: 80, oldKey: 'delete', deferOnSessions: true };

/** Verification tuned for tests: same logic, shorter pauses. */
export const fastVerify = { confirmDelayMs: 50, initialDelayMs: 50, maxDelayMs: 1_000, timeoutMs: 20_000 };

export interface RotationHarness {
  readonly emulator: Emulator;
  readonly home: TempHome;
  readonly paths: KeyupPaths;
  readonly rotator: Rotator;
  /** Every log line the rotator wrote, as text. */
  readonly logLines: string[];
  writeCredentials(text: string): Promise<void>;
  readCredentials(): Promise<string>;
  rotate(request?: Partial<RotateRequest>): Promise<Outcome>;
  /** The keys IAM holds for a user. */
  keysOf(userName: string): { accessKeyId: string; status: string; secretAccessKey: string }[];
  /** Every file under the state folder, with its contents. */
  readStateFiles(): Promise<Map<string, string>>;
  /** Another rotator on the same files (another keyup process, say) with its own KeyApi. */
  createRotator(keyApi: KeyApi): Rotator;
  close(): Promise<void>;
}

export interface HarnessInit {
  /** The file system under the store, the journal, the history and the lock; default node:fs. */
  fs?: FileSystem;
  /** Wraps the credentials file as the engine sees it, to interleave another writer with keyup's. */
  wrapCredentials?: (file: CredentialsFile) => CredentialsFile;
}

export async function createRotationHarness(options: EmulatorOptions = {}, verifyInit = fastVerify, init: HarnessInit = {}): Promise<RotationHarness> {
  const emulator = await startEmulator(options);
  const home = await createTempHome();
  const paths = resolvePaths({ env: home.env, home: home.dir });
  const logLines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ destination: logStream, level: 'debug' });
  const keyApi = createSdkKeyApi({ iamEndpoint: emulator.endpoint, stsEndpoint: emulator.endpoint, requestTimeoutMs: 2_000, connectionTimeoutMs: 1_000 });
  const rotator = createRotator(init, paths, keyApi, logger, verifyInit);

  return {
    emulator,
    home,
    paths,
    rotator,
    logLines,
    async writeCredentials(text) {
      await fs.mkdir(dirname(paths.credentialsFile), { recursive: true, mode: 0o700 });
      await fs.writeFile(paths.credentialsFile, text, { mode: 0o600 });
    },
    readCredentials: () => fs.readFile(paths.credentialsFile, 'utf8'),
    rotate: (request = {}) => rotator.rotate({ profile: 'default', settings: defaultSettings, ...request }),
    keysOf: (userName) => emulator.getState().accessKeys.filter((key) => key.userName === userName),
    readStateFiles: () => readTree(paths.stateDir),
    createRotator: (other) => createRotator(init, paths, other, createLogger({ level: 'silent' }), verifyInit),
    async close() {
      await emulator.stop();
      await home.remove();
    },
  };
}

/** The engine's wiring of one Rotator, with the file system or the credentials file replaceable. */
function createRotator({ fs = nodeFs, wrapCredentials = (file) => file }: HarnessInit, paths: KeyupPaths, keyApi: KeyApi, logger: ReturnType<typeof createLogger>, verifyInit: typeof fastVerify): Rotator {
  const store = new CredentialsStore({ fs, paths });
  return new Rotator({
    keyApi,
    credentials: wrapCredentials(createCredentialsFile(store, paths.credentialsFile)),
    journal: new Journal({ fs, stateDir: paths.stateDir }),
    history: new History({ fs, stateDir: paths.stateDir }),
    locks: new KeyLocks({ fs, stateDir: paths.stateDir }),
    logger,
    verifyInit,
  });
}
