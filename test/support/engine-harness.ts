import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import { startEmulator, type Emulator, type EmulatorOptions, type SeededAccessKey } from '../../emulator/index.js';
import type { KeyApi } from '../../src/aws/key-api.js';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { parseConfig } from '../../src/config/index.js';
import { Engine, type EngineInit } from '../../src/engine/engine.js';
import { createLogger } from '../../src/log.js';
import { resolvePaths, type KeyupPaths } from '../../src/paths.js';
import { fastVerify } from './rotation-harness.js';
import { createTempHome, readTree, type TempHome } from './temp-home.js';
import { daysAgo } from './time.js';

export interface EngineHarness {
  readonly emulator: Emulator;
  readonly home: TempHome;
  readonly paths: KeyupPaths;
  readonly logLines: string[];
  /** An engine on this HOME with the keyup config `text`, calling IAM through `keyApi` (default: the SDK to the emulator). */
  createEngine(text?: string, init?: Partial<EngineInit> & { keyApi?: KeyApi }): Engine;
  /** A user with one key of `ageDays`, in profile `profile` of the credentials file (appended). */
  seedProfile(profile: string, userName: string, ageDays?: number): Promise<SeededAccessKey>;
  readCredentials(): Promise<string>;
  keysOf(userName: string): { accessKeyId: string; status: string; secretAccessKey: string }[];
  /** The key id and secret `profile` holds now. */
  keyInFile(profile: string): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined>;
  /** Every file under the state folder, with its contents. */
  readStateFiles(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export async function createEngineHarness(options: EmulatorOptions = {}): Promise<EngineHarness> {
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
  const sdk = createSdkKeyApi({ iamEndpoint: emulator.endpoint, stsEndpoint: emulator.endpoint, requestTimeoutMs: 2_000, connectionTimeoutMs: 1_000 });
  const users = new Set<string>();
  const readCredentials = () => fs.readFile(paths.credentialsFile, 'utf8').catch(() => '');

  return {
    emulator,
    home,
    paths,
    logLines,
    createEngine(text = '', { keyApi = sdk, ...init } = {}) {
      const config = parseConfig(text, paths.keyupConfigFile, home.env, home.dir);
      return new Engine({ fs: nodeFs, paths, config, logger, loadKeyApi: async () => keyApi, verifyInit: fastVerify, ...init });
    },
    async seedProfile(profile, userName, ageDays = 100) {
      if (!users.has(userName)) {
        emulator.createUser({ userName });
        users.add(userName);
      }
      const key = emulator.createAccessKey({ userName, createDate: daysAgo(ageDays) });
      await fs.mkdir(dirname(paths.credentialsFile), { recursive: true, mode: 0o700 });
      await fs.appendFile(paths.credentialsFile, `[${profile}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n\n`, { mode: 0o600 });
      return key;
    },
    readCredentials,
    keysOf: (userName) => emulator.getState().accessKeys.filter((key) => key.userName === userName),
    async keyInFile(profile) {
      const section = new RegExp(`^\\[${profile}\\]\\naws_access_key_id = (\\S+)\\naws_secret_access_key = (\\S+)$`, 'm').exec(await readCredentials());
      return section === null ? undefined : { accessKeyId: section[1] ?? '', secretAccessKey: section[2] ?? '' };
    },
    readStateFiles: () => readTree(paths.stateDir),
    async close() {
      sdk.release?.();
      await emulator.stop();
      await home.remove();
    },
  };
}
