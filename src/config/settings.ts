import { join } from 'node:path';
import { resolvePaths } from '../paths.js';
import type { Env } from '../paths.js';

/** Chooses the one managed profile when the config file has no `[profile …]` section. */
export const ENV_AWS_PROFILE = 'AWS_PROFILE';

/** The profile managed when neither a `[profile …]` section nor `$AWS_PROFILE` names one. */
export const DEFAULT_PROFILE = 'default';

export type OldKeyAction = 'delete' | 'deactivate';
export type LogTarget = 'stdout' | 'file' | 'syslog';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type NotifyMode = 'off' | 'failures' | 'all';

/** One `post_rotate` command: as written (for messages and status), and as the program and its arguments. */
export interface HookCommand {
  readonly command: string;
  /** The program (absolute, `~` expanded) and its arguments; run without a shell. */
  readonly argv: readonly string[];
}

/** Where syslog lines go: a UDP or TCP `host:port`, or a Unix socket such as `/dev/log`. */
export type SyslogTarget =
  | { readonly transport: 'udp' | 'tcp'; readonly host: string; readonly port: number }
  | { readonly transport: 'unix'; readonly path: string };

/**
 * The effective value of every key of `[keyup]` (SPEC "Configuration"), fully defaulted.
 * Paths are absolute with `~` expanded.
 */
export interface Settings {
  /** `schedule`: a five-field cron expression (croner syntax, local time). Default `0 7 * * *`. */
  readonly schedule: string;
  /** `max_age_days`: rotate a key once it is this many days old; 0 rotates at every check. 0 to {@link MAX_DAYS}; default 90. */
  readonly maxAgeDays: number;
  /** `warn_age_days`: status and log warn from this age; at or above `max_age_days` there is no warning stage. 0 to {@link MAX_DAYS}; default 80. */
  readonly warnAgeDays: number;
  /** `old_key`: what becomes of the replaced key. Default `delete`. */
  readonly oldKey: OldKeyAction;
  /** `defer_on_sessions`: defer while temporary credentials in the credentials file are valid. Default `true`. */
  readonly deferOnSessions: boolean;
  /** `backup`: keep a 0600 copy of the credentials file before each rewrite. Default `true`. */
  readonly backup: boolean;
  /** `backup_keep`: how many backups to keep; 0 keeps every one. 0 to {@link MAX_BACKUP_KEEP}; default 10. */
  readonly backupKeep: number;
  /** `log`: where the daemon logs. Default `stdout`. */
  readonly log: LogTarget;
  /** `log_file`: the log when `log = file`. Default `$XDG_STATE_HOME/keyup/keyupd.log` (`~/.local/state/keyup/keyupd.log`). */
  readonly logFile: string;
  /** `log_level`: a pino level. Default `info`. */
  readonly logLevel: LogLevel;
  /** `syslog`: where syslog lines go when `log = syslog`. Default `udp://127.0.0.1:514`. */
  readonly syslog: SyslogTarget;
  /** `notify`: desktop notifications (notify-send, osascript). Default `failures`. */
  readonly notify: NotifyMode;
  /**
   * `post_rotate`: commands run, in order, after the new key is written and before the old one is
   * retired; the key given once per line, a profile's list replacing `[keyup]`'s. Default: none.
   */
  readonly postRotate: readonly HookCommand[];
}

/** The name of a key as written in the config file. */
export type SettingKey =
  | 'schedule'
  | 'max_age_days'
  | 'warn_age_days'
  | 'old_key'
  | 'defer_on_sessions'
  | 'backup'
  | 'backup_keep'
  | 'log'
  | 'log_file'
  | 'log_level'
  | 'syslog'
  | 'notify'
  | 'post_rotate';

/**
 * The most days `max_age_days` and `warn_age_days` take: a century. No sensible policy keeps a
 * key longer (IAM itself dates from 2006), so a larger value is a typo; and the bound keeps every
 * date computed from it valid: a key's CreateDate plus a century is nowhere near the end of
 * JavaScript's dates (year 275760), where 100000000 days from 1970 already is (issue 7, hole 8).
 */
export const MAX_DAYS = 36_500;

/**
 * The most backups `backup_keep` keeps: a year of hourly rotations, far more than anyone keeps
 * on purpose, and few enough that listing and pruning the backup folder stays quick.
 */
export const MAX_BACKUP_KEEP = 10_000;

/** The key that only a `[profile NAME]` section may hold. */
export const MANAGE_WITH_KEY = 'manage_with';

/** Each file key and the `Settings` field it sets, in SPEC's order (which is also the display order). */
export const settingFields = Object.freeze({
  schedule: 'schedule',
  max_age_days: 'maxAgeDays',
  warn_age_days: 'warnAgeDays',
  old_key: 'oldKey',
  defer_on_sessions: 'deferOnSessions',
  backup: 'backup',
  backup_keep: 'backupKeep',
  log: 'log',
  log_file: 'logFile',
  log_level: 'logLevel',
  syslog: 'syslog',
  notify: 'notify',
  post_rotate: 'postRotate',
} as const satisfies Record<SettingKey, keyof Settings>);

export const settingKeys: readonly SettingKey[] = Object.freeze(Object.keys(settingFields) as SettingKey[]);

/**
 * Keys that belong to the one daemon process rather than to a profile: there is one schedule
 * (status shows one `next_check`) and one log. A `[profile …]` section that sets one is refused.
 */
export const daemonOnlyKeys: ReadonlySet<SettingKey> = new Set<SettingKey>(['schedule', 'log', 'log_file', 'log_level', 'syslog']);

/**
 * Keys of SPEC this build does not implement yet. Setting one is refused ("not supported yet")
 * instead of being silently ignored; remove a key from here when its feature lands.
 */
export const unsupportedKeys: ReadonlySet<SettingKey> = new Set<SettingKey>([]);

/**
 * Keys that may be given on several lines of one section, each line a value, in order (like
 * systemd's ExecStartPost=): a hook per line. An empty value clears the list so far, so a
 * profile can say `post_rotate =` to run none of `[keyup]`'s.
 */
export const repeatableKeys: ReadonlySet<SettingKey> = new Set<SettingKey>(['post_rotate']);

/**
 * The value of an unsupported key that asks for nothing, so it is accepted and is its default
 * while the key is unsupported (as `notify = off` was before notifications came).
 */
export const inertValues: Readonly<Partial<Record<SettingKey, string>>> = Object.freeze({});

export const DEFAULT_SYSLOG: SyslogTarget = Object.freeze({ transport: 'udp', host: '127.0.0.1', port: 514 });

/** SPEC's defaults; the log file follows `$XDG_STATE_HOME`, hence `env` and `home`. */
export function getDefaultSettings(env: Env, home: string): Settings {
  return {
    schedule: '0 7 * * *',
    maxAgeDays: 90,
    warnAgeDays: 80,
    oldKey: 'delete',
    deferOnSessions: true,
    backup: true,
    backupKeep: 10,
    log: 'stdout',
    logFile: join(resolvePaths({ env, home }).stateDir, 'keyupd.log'),
    logLevel: 'info',
    syslog: DEFAULT_SYSLOG,
    notify: 'failures',
    postRotate: [],
  };
}
