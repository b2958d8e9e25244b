import { readFile as nodeReadFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { ExitCode, KeyupError } from '../errors.js';
import { getErrorCode } from '../fs/fs.js';
import type { Env } from '../paths.js';
import type { KeyupConfig, ParseConfigInit } from './parse-config.js';
import { getDefaultConfig, parseConfig } from './parse-config.js';

/** Reads a whole file as UTF-8; `node:fs/promises`' and memfs's `readFile` both fit. */
export type ReadTextFile = (path: string, encoding: 'utf8') => Promise<string | Uint8Array>;

export interface LoadConfigInit extends ParseConfigInit {
  /** The config file, as `resolvePaths().keyupConfigFile` chose it (`--config`, `$KEYUP_CONFIG`, else `$XDG_CONFIG_HOME/keyup/config`). */
  path: string;
  /** Default: `process.env`. */
  env?: Env;
  /** Default: `os.homedir()`. */
  home?: string;
  /** Default: `readFile` of `node:fs/promises`. */
  readFile?: ReadTextFile;
}

function unreadable(path: string, error: unknown): KeyupError {
  const init = { exitCode: ExitCode.usage, cause: error };
  switch (getErrorCode(error)) {
    case 'EISDIR':
      return new KeyupError(`${path} is a folder, not a keyup configuration file.`, { ...init, hint: 'Point --config or $KEYUP_CONFIG at a file, or move the folder away.' });
    case 'EACCES':
    case 'EPERM':
      return new KeyupError(`${path} cannot be read: permission denied.`, { ...init, hint: `Make it readable by you, for example with chmod 600 ${path}.` });
    case 'ENOTDIR':
      return new KeyupError(`${path} cannot be read: part of that path is a file, not a folder.`, { ...init, hint: 'Check --config and $KEYUP_CONFIG.' });
    default:
      return new KeyupError(`${path} cannot be read (${getErrorCode(error) ?? String(error)}).`, { ...init, hint: 'Check the file, or point --config at another one.' });
  }
}

/**
 * Reads and parses keyup's config file. The only fs access of `src/config`. A missing file gives
 * every default (SPEC); a folder, an unreadable file or a bad line throws a `KeyupError` with
 * exit code 2 (a `ConfigError` for a bad line). Nothing is changed on failure, so a reload can
 * keep the configuration it has.
 */
export async function loadConfig({ path, env = process.env, home = homedir(), readFile = nodeReadFile, ...init }: LoadConfigInit): Promise<KeyupConfig> {
  let content: string | Uint8Array;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    if (getErrorCode(error) === 'ENOENT') return getDefaultConfig(path, env, home, init);
    throw unreadable(path, error);
  }
  const text = typeof content === 'string' ? content : new TextDecoder().decode(content);
  return parseConfig(text, path, env, home, init);
}
