import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Environment variables that choose keyup's files (SPEC "Files and places"). */
export const ENV_CREDENTIALS_FILE = 'AWS_SHARED_CREDENTIALS_FILE';
export const ENV_CONFIG_FILE = 'AWS_CONFIG_FILE';
export const ENV_KEYUP_CONFIG = 'KEYUP_CONFIG';
export const ENV_KEYUP_SOCKET = 'KEYUP_SOCKET';
export const ENV_XDG_CONFIG_HOME = 'XDG_CONFIG_HOME';
export const ENV_XDG_STATE_HOME = 'XDG_STATE_HOME';
export const ENV_XDG_RUNTIME_DIR = 'XDG_RUNTIME_DIR';

export type Env = Readonly<Record<string, string | undefined>>;

/** Every path of SPEC, resolved once from the environment and the command line. */
export interface KeyupPaths {
  /** `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`. */
  readonly credentialsFile: string;
  /** `$AWS_CONFIG_FILE`, else `~/.aws/config`. */
  readonly awsConfigFile: string;
  /** `--config`, `$KEYUP_CONFIG`, else `$XDG_CONFIG_HOME/keyup/config`. */
  readonly keyupConfigFile: string;
  /** Named by `--config` or `$KEYUP_CONFIG`: then it must exist (SPEC); the default place may not. */
  readonly keyupConfigExplicit: boolean;
  /** `$XDG_STATE_HOME/keyup` (`~/.local/state/keyup`): journal, history, log, backups. */
  readonly stateDir: string;
  /** `--socket`, `$KEYUP_SOCKET`, else `$XDG_RUNTIME_DIR/keyup/keyupd.sock`, else in the state folder. */
  readonly socketFile: string;
  readonly home: string;
}

export interface ResolvePathsInit {
  env?: Env;
  home?: string;
  /** `--config` from the command line. */
  configFlag?: string;
  /** `--socket` from the command line. */
  socketFlag?: string;
}

/** Expands a leading `~` or `~/` the way a shell would; other paths are made absolute. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return resolve(path);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value != null && value !== '' ? value : undefined;
}

export function resolvePaths({ env = process.env, home = homedir(), configFlag, socketFlag }: ResolvePathsInit = {}): KeyupPaths {
  const pick = (...candidates: (string | undefined)[]): string | undefined => candidates.map(nonEmpty).find((c) => c !== undefined);
  const configHome = pick(env[ENV_XDG_CONFIG_HOME]) ?? join(home, '.config');
  const stateHome = pick(env[ENV_XDG_STATE_HOME]) ?? join(home, '.local', 'state');
  const stateDir = join(expandHome(stateHome, home), 'keyup');
  const runtimeDir = pick(env[ENV_XDG_RUNTIME_DIR]);
  const socketDefault = runtimeDir !== undefined ? join(expandHome(runtimeDir, home), 'keyup', 'keyupd.sock') : join(stateDir, 'keyupd.sock');
  return {
    home,
    credentialsFile: expandHome(pick(env[ENV_CREDENTIALS_FILE]) ?? join(home, '.aws', 'credentials'), home),
    awsConfigFile: expandHome(pick(env[ENV_CONFIG_FILE]) ?? join(home, '.aws', 'config'), home),
    keyupConfigFile: expandHome(pick(configFlag, env[ENV_KEYUP_CONFIG]) ?? join(expandHome(configHome, home), 'keyup', 'config'), home),
    keyupConfigExplicit: pick(configFlag, env[ENV_KEYUP_CONFIG]) !== undefined,
    stateDir,
    socketFile: expandHome(pick(socketFlag, env[ENV_KEYUP_SOCKET]) ?? socketDefault, home),
  };
}
