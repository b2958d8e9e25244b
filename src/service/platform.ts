import { join } from 'node:path';
import { ENV_CONFIG_FILE, ENV_CREDENTIALS_FILE, ENV_KEYUP_CONFIG, ENV_KEYUP_SOCKET, ENV_XDG_CONFIG_HOME, ENV_XDG_RUNTIME_DIR, ENV_XDG_STATE_HOME, expandHome, resolvePaths, type Env } from '../paths.js';
import { createServiceError } from './service-error.js';

/** The user service managers keyup installs itself into. */
export type ServiceManagerName = 'systemd' | 'launchd';

/** The systemd user unit's name. */
export const SYSTEMD_UNIT = 'keyupd.service';
/** The launchd agent's label, and its file's name without `.plist`. */
export const LAUNCHD_LABEL = 'dev.keyup.keyupd';
/** What launchd captures of keyupd's stdout and stderr, in keyup's state folder. */
export const LAUNCHD_LOG_NAME = 'launchd.log';

/** Where the shipped templates are, under keyup's package folder. */
export const TEMPLATE_PATHS: Readonly<Record<ServiceManagerName, string>> = {
  systemd: join('systemd', SYSTEMD_UNIT),
  launchd: join('launchd', `${LAUNCHD_LABEL}.plist`),
};

/**
 * The variables that choose keyup's files. A service manager does not give its services the
 * environment of the shell keyupctl runs in, so those set there are written into the unit:
 * otherwise the daemon would read another config, keep its state elsewhere or listen on another
 * socket than keyupctl looks for. AWS_PROFILE is not among them: people switch it per shell.
 */
const PINNED_PATH_VARIABLES = [ENV_KEYUP_CONFIG, ENV_KEYUP_SOCKET, ENV_XDG_CONFIG_HOME, ENV_XDG_STATE_HOME, ENV_CREDENTIALS_FILE, ENV_CONFIG_FILE] as const;

/** The manager of `platform`'s per-user services; any other platform has none keyup knows. */
export function pickServiceManager(platform: NodeJS.Platform): ServiceManagerName {
  if (platform === 'linux') return 'systemd';
  if (platform === 'darwin') return 'launchd';
  throw createServiceError('no-service-manager', `keyupctl install knows the user services of systemd (Linux) and launchd (macOS), not those of ${platform}.`, RUN_IT_YOURSELF);
}

/** What to do where no user service manager answers: the SPEC's one sentence ends with it. */
export const RUN_IT_YOURSELF = "Start keyupd from your session's autostart instead, or run keyupd --once daily from cron.";

/** `$XDG_CONFIG_HOME/systemd/user/keyupd.service`, or `~/Library/LaunchAgents/dev.keyup.keyupd.plist`. */
export function getServiceFile(manager: ServiceManagerName, env: Env, home: string): string {
  if (manager === 'launchd') return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const configHome = env[ENV_XDG_CONFIG_HOME];
  return join(configHome === undefined || configHome === '' ? join(home, '.config') : expandHome(configHome, home), 'systemd', 'user', SYSTEMD_UNIT);
}

/** The launchd agent's log file, in keyup's state folder (`$XDG_STATE_HOME/keyup/`). */
export function getLaunchdLogFile(env: Env, home: string): string {
  return join(resolvePaths({ env, home }).stateDir, LAUNCHD_LOG_NAME);
}

/**
 * The environment the unit sets for keyupd: each variable of {@link PINNED_PATH_VARIABLES} that
 * is set, as an absolute path (the service's working folder is not the shell's). On macOS
 * XDG_RUNTIME_DIR too, which decides the socket; systemd sets it by itself, per boot.
 */
export function getPinnedEnvironment(manager: ServiceManagerName, env: Env, home: string): [string, string][] {
  const names = manager === 'launchd' ? [...PINNED_PATH_VARIABLES, ENV_XDG_RUNTIME_DIR] : PINNED_PATH_VARIABLES;
  const pinned: [string, string][] = [];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') pinned.push([name, expandHome(value, home)]);
  }
  return pinned;
}
