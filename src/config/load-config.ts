import * as nodeFs from 'node:fs';
import { homedir } from 'node:os';
import { ExitCode, KeyupError } from '../errors.js';
import { getErrorCode } from '../fs/fs.js';
import { EKEYUP_NOT_A_FILE, EKEYUP_TOO_LARGE, NotAFileError, describeFileKind, readBoundedFile } from '../fs/read-file.js';
import type { BoundedReadFileSystem } from '../fs/read-file.js';
import type { Env } from '../paths.js';
import type { KeyupConfig, ParseConfigInit } from './parse-config.js';
import { getDefaultConfig, parseConfig } from './parse-config.js';

/**
 * The largest config file keyup reads: SPEC's whole example is under 1 KiB, so 1 MiB (thousands
 * of profiles) is only ever reached by pointing `--config` at the wrong file.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadConfigInit extends ParseConfigInit {
  /** The config file, as `resolvePaths().keyupConfigFile` chose it (`--config`, `$KEYUP_CONFIG`, else `$XDG_CONFIG_HOME/keyup/config`). */
  path: string;
  /**
   * True when `path` came from `--config` or `$KEYUP_CONFIG`: then a missing file is a
   * configuration error (SPEC), not all defaults. Default: false, the default place.
   */
  explicit?: boolean;
  /** Default: `process.env`. */
  env?: Env;
  /** Default: `os.homedir()`. */
  home?: string;
  /** Default: `node:fs`; memfs's `createFsFromVolume(vol)` fits too. */
  fs?: BoundedReadFileSystem;
}

const CHOOSE_ANOTHER = 'Point --config or $KEYUP_CONFIG at a keyup configuration file';

function unreadable(path: string, explicit: boolean, error: unknown): KeyupError {
  const init = { exitCode: ExitCode.usage, cause: error };
  const code = getErrorCode(error);
  switch (code) {
    case 'ENOENT':
      return new KeyupError(`The keyup configuration file ${path}, named by --config or $KEYUP_CONFIG, does not exist.`, {
        ...init,
        hint: 'Create it, or correct the path given to --config or in $KEYUP_CONFIG.',
      });
    case EKEYUP_NOT_A_FILE: {
      const kind = error instanceof NotAFileError ? error.kind : 'unknown';
      if (kind === 'folder') {
        return new KeyupError(`${path} is a folder, not a keyup configuration file.`, { ...init, hint: 'Point --config or $KEYUP_CONFIG at a file, or move the folder away.' });
      }
      const words = describeFileKind(kind);
      const what = words === undefined ? `${path} is not a regular file, so it cannot be a keyup configuration file.` : `${path} is ${words}, not a keyup configuration file.`;
      return new KeyupError(what, { ...init, hint: `${CHOOSE_ANOTHER}${explicit ? '' : `, or put one in place of ${path}`}.` });
    }
    case EKEYUP_TOO_LARGE:
      return new KeyupError(`${path} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB, far too large to be a keyup configuration file.`, {
        ...init,
        hint: `${CHOOSE_ANOTHER} (a few lines of INI)${explicit ? '' : `, or replace ${path} with one`}.`,
      });
    case 'EACCES':
    case 'EPERM':
      return new KeyupError(`${path} cannot be read: permission denied.`, { ...init, hint: `Make it readable by you, for example with chmod 600 ${path}.` });
    case 'ENOTDIR':
      return new KeyupError(`${path} cannot be read: part of that path is a file, not a folder.`, { ...init, hint: 'Check --config and $KEYUP_CONFIG.' });
    default:
      return new KeyupError(`${path} cannot be read (${code ?? String(error)}).`, { ...init, hint: 'Check the file, or point --config at another one.' });
  }
}

/**
 * Reads and parses keyup's config file. The only fs access of `src/config`. A missing file at the
 * default place gives every default; one named by `--config` or `$KEYUP_CONFIG` (`explicit`) is
 * an error (SPEC). A folder, a named pipe, a device, a file over {@link MAX_CONFIG_BYTES}, an
 * unreadable file or a bad line throws a `KeyupError` with exit code 2 (a `ConfigError` for a bad
 * line), at once: nothing at the path can make it wait. Nothing is changed on failure, so a
 * reload can keep the configuration it has.
 */
export async function loadConfig({ path, explicit = false, env = process.env, home = homedir(), fs = nodeFs, ...init }: LoadConfigInit): Promise<KeyupConfig> {
  let content: Uint8Array;
  try {
    content = await readBoundedFile(fs, path, { maxBytes: MAX_CONFIG_BYTES });
  } catch (error) {
    if (getErrorCode(error) === 'ENOENT' && !explicit) return getDefaultConfig(path, env, home, init);
    throw unreadable(path, explicit, error);
  }
  return parseConfig(new TextDecoder().decode(content), path, env, home, init);
}
