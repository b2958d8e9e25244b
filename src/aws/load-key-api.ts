/**
 * What keyupd and `keyupd --once` read from the environment and the AWS config file for their AWS
 * calls, in one place: the region, and the endpoints the profile in use sets (SPEC "Files and
 * places": `endpoint_url` is honoured). The SDK itself is told to read neither (sdk-key-api.ts).
 */
import { DEFAULT_PROFILE, ENV_AWS_PROFILE } from '../config/settings.js';
import { decodeUtf8 } from '../credentials/decode.js';
import { createReadError } from '../credentials/file-errors.js';
import { detach, splitPythonLines, stripSpace } from '../credentials/lines.js';
import { parseIni, type IniDocument } from '../credentials/parse.js';
import { toConfigProfileName } from '../credentials/profiles.js';
import { splitShellWords } from '../credentials/shell-words.js';
import { getErrorCode } from '../fs/fs.js';
import { readBoundedFile, type BoundedReadFileSystem } from '../fs/read-file.js';
import type { Env, KeyupPaths } from '../paths.js';
import type { ConfiguredEndpoints } from './endpoints.js';
import type { KeyApi } from './key-api.js';

export const ENV_REGION = 'AWS_REGION';
export const ENV_DEFAULT_REGION = 'AWS_DEFAULT_REGION';

/** As the credentials store reads it: larger than any AWS config file a person keeps. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export interface KeyApiLoaderInit {
  /** `AWS_PROFILE` (else `default`) picks the config file's profile; the rest goes to the SDK KeyApi. */
  env: Env;
  /** `node:fs`; memfs in tests. */
  fs: BoundedReadFileSystem;
  /** `awsConfigFile`: `$AWS_CONFIG_FILE`, else `~/.aws/config`. */
  paths: Pick<KeyupPaths, 'awsConfigFile'>;
}

/**
 * The engine's `loadKeyApi`: reads the endpoints of the AWS config file, then loads the AWS SDK
 * and makes its KeyApi with them. Nothing happens until it is called: loading the SDK takes time
 * a usage or configuration error should not wait for, so the engine calls it at its first need,
 * and keeps what it answers. Rejects with a KeyupError when the config file cannot be read or
 * parsed, or names an endpoint that is not a URL.
 */
export function createKeyApiLoader({ env, fs, paths }: KeyApiLoaderInit): () => Promise<KeyApi> {
  return async () => {
    const configuredEndpoints = await loadConfiguredEndpoints(fs, paths.awsConfigFile, readProfileName(env));
    const { createSdkKeyApi } = await import('./sdk-key-api.js');
    return createSdkKeyApi({ env, configuredEndpoints });
  };
}

/** STS's region: `AWS_REGION`, else `AWS_DEFAULT_REGION`; undefined when neither is set. */
export function readRegion(env: Env): string | undefined {
  const region = env[ENV_REGION] ?? env[ENV_DEFAULT_REGION];
  return region === undefined || region === '' ? undefined : region;
}

/** The profile whose config-file settings apply to the process, as in the SDKs: `AWS_PROFILE`, else `default`. */
export function readProfileName(env: Env): string {
  const named = env[ENV_AWS_PROFILE]?.trim();
  return named === undefined || named === '' ? DEFAULT_PROFILE : named;
}

/**
 * What the AWS config file at `file` says about endpoints for `profile`; nothing when there is no
 * such file. The text may hold keys: it is never kept, logged or quoted.
 *
 * @throws KeyupError (`credentials-file`) when the file cannot be read, is not UTF-8 or does not
 * parse, naming the file (and line) in one sentence.
 */
export async function loadConfiguredEndpoints(fs: BoundedReadFileSystem, file: string, profile: string): Promise<ConfiguredEndpoints> {
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedFile(fs, file, { maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    // Most people have no config file, and the AWS SDKs do without one.
    if (getErrorCode(error) === 'ENOENT') return {};
    throw createReadError('config', file, error);
  }
  return findConfiguredEndpoints(parseIni(decodeUtf8(bytes, file), file), profile);
}

/**
 * The endpoint settings of `profile` in a parsed AWS config file: `endpoint_url` and
 * `ignore_configured_endpoint_urls` of its section (`[default]`, `[profile NAME]`), and the
 * nested `endpoint_url` of each service of the `[services NAME]` section its `services` names.
 * Sections are matched as botocore's `build_profile_map` does; of two for the same name, the last.
 */
export function findConfiguredEndpoints(document: IniDocument, profile: string): ConfiguredEndpoints {
  const section = document.sections.findLast(({ name }) => isProfileSection(name) && toConfigProfileName(name) === profile)?.entries;
  // Detached: a slice of the file's text would keep all of it, keys included, alive in the KeyApi.
  const read = (key: string): string | undefined => {
    const value = section?.get(key)?.value;
    return value === undefined ? undefined : detach(stripSpace(value));
  };
  const endpointUrl = read('endpoint_url');
  const ignoreConfiguredEndpointUrls = read('ignore_configured_endpoint_urls');
  const servicesName = read('services');
  const services = servicesName === undefined ? undefined : findServiceEndpoints(document, servicesName);
  return {
    ...(endpointUrl === undefined ? {} : { endpointUrl }),
    ...(services === undefined ? {} : { services }),
    ...(ignoreConfiguredEndpointUrls === undefined ? {} : { ignoreConfiguredEndpointUrls }),
  };
}

/** `[default]` and `[profile NAME]`: a bare `[NAME]` in the config file is no profile. */
function isProfileSection(name: string): boolean {
  return name === 'default' || toConfigProfileName(name) !== name;
}

/**
 * `endpoint_url` of each service of `[services NAME]`, by service key in lower case; undefined
 * when there is no such section or no service in it has one. A service's settings are a nested
 * block (`iam =` then indented `endpoint_url = …` lines), which parseIni keeps as one value
 * starting with a line break; botocore splits its lines at the first `=`.
 */
function findServiceEndpoints(document: IniDocument, name: string): Record<string, string> | undefined {
  const section = document.sections.findLast((candidate) => {
    if (!candidate.name.startsWith('services')) return false;
    const words = splitShellWords(candidate.name);
    return words?.length === 2 && words[1] === name;
  });
  if (section === undefined) return undefined;
  const endpoints: Record<string, string> = {};
  for (const [service, entry] of section.entries) {
    if (!entry.value.startsWith('\n')) continue;
    for (const line of splitPythonLines(entry.value)) {
      const equals = line.indexOf('=');
      if (equals >= 0 && stripSpace(line.slice(0, equals)) === 'endpoint_url') endpoints[detach(service)] = detach(stripSpace(line.slice(equals + 1)));
    }
  }
  return Object.keys(endpoints).length === 0 ? undefined : endpoints;
}
