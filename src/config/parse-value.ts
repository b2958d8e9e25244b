import { isAbsolute } from 'node:path';
import { Cron } from 'croner';
import { expandHome } from '../paths.js';
import { splitShellWords } from '../credentials/shell-words.js';
import type { HookCommand, LogLevel, LogTarget, NotifyMode, OldKeyAction, SettingKey, Settings, SyslogTarget, settingFields } from './settings.js';
import { MAX_BACKUP_KEEP, MAX_DAYS } from './settings.js';

/** A value read from the file, or the sentence (without its final period) that says what is wrong. */
export type ParsedValue<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problem: string };

/** One line's value: post_rotate's line is one command of the list (or null, which clears it). */
type ValueOf<K extends SettingKey> = K extends 'post_rotate' ? HookCommand | null : Settings[(typeof settingFields)[K]];
type ValueParser<T> = (raw: string, home: string) => ParsedValue<T>;

const ok = <T>(value: T): ParsedValue<T> => ({ ok: true, value });
const fail = (problem: string): ParsedValue<never> => ({ ok: false, problem });

function listed(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1) ?? ''}`;
}

/** Values are case-insensitive, as `true`/`True` are in the AWS CLI's config; stored lower-case. */
function oneOf<T extends string>(key: SettingKey, words: readonly T[]): ValueParser<T> {
  return (raw) => {
    const word = raw.toLowerCase();
    return (words as readonly string[]).includes(word) ? ok(word as T) : fail(`${key} must be ${listed(words)}, not '${raw}'`);
  };
}

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];

/** true/false, and the yes/no, on/off, 1/0 that systemd and git also accept. */
function boolean(key: SettingKey): ValueParser<boolean> {
  return (raw) => {
    const word = raw.toLowerCase();
    if (TRUE_WORDS.includes(word)) return ok(true);
    if (FALSE_WORDS.includes(word)) return ok(false);
    return fail(`${key} must be true or false, not '${raw}'`);
  };
}

/**
 * Plain decimals only: `1e3`, `0x10`, `Infinity` and `-1` are typos more often than intent. At
 * most `MAX_DAYS`, so that no due date computed from it is an invalid Date.
 */
function days(key: SettingKey): ValueParser<number> {
  return (raw) => {
    const value = Number(raw);
    return /^(\d+(\.\d+)?|\.\d+)$/.test(raw) && value <= MAX_DAYS ? ok(value) : fail(`${key} must be a number of days from 0 to ${MAX_DAYS}, not '${raw}'`);
  };
}

/** `backup_keep` is the only count; its message says what its 0 means. */
function backupCount(key: SettingKey): ValueParser<number> {
  return (raw) => {
    const value = Number(raw);
    return /^\d+$/.test(raw) && value <= MAX_BACKUP_KEEP ? ok(value) : fail(`${key} must be a whole number from 0 to ${MAX_BACKUP_KEEP} (0 keeps every backup), not '${raw}'`);
  };
}

/**
 * Only absolute or `~/` paths: the daemon's working folder and `PATH` under systemd or launchd
 * are not the shell's, so a relative path or a bare command name would find something else.
 */
function path(key: SettingKey, what: string): ValueParser<string> {
  return (raw, home) =>
    raw === '~' || raw.startsWith('~/') || isAbsolute(raw) ? ok(expandHome(raw, home)) : fail(`${key} must be ${what} that is absolute or starts with ~/, not '${raw}'`);
}

/**
 * A hook: a program and its arguments, split like a shell line (quotes group, a backslash
 * escapes) but run without one — `/bin/sh -c '…'` asks for a shell. The program is an absolute
 * path or `~/…`: under systemd or launchd neither the working folder nor PATH is the shell's.
 * Empty clears the list (see `repeatableKeys`), and is read as no command.
 */
function parseHookCommand(raw: string, home: string): ParsedValue<HookCommand | null> {
  if (raw === '') return ok(null);
  const words = splitShellWords(raw);
  if (words === undefined || words.length === 0) return fail(`post_rotate has an unclosed quote or a trailing backslash: '${raw}'`);
  const [program = '', ...args] = words;
  if (!(program === '~' || program.startsWith('~/') || isAbsolute(program))) {
    return fail(`post_rotate must start with the absolute path of a program (or ~/…), not '${program}'; for a shell, write /bin/sh -c '…'`);
  }
  return ok({ command: raw, argv: [expandHome(program, home), ...args] });
}

const CRON_FIELDS = 'minute hour day-of-month month day-of-week';

/**
 * Five fields (or a nickname such as `@daily`), validated by croner itself. Six or seven fields
 * are refused rather than read as croner's seconds-first form: an AWS user's EventBridge
 * `0 7 * * ? *` ends with a year, and would otherwise run every hour.
 */
function parseSchedule(raw: string): ParsedValue<string> {
  const expected = `schedule must be a cron expression of five fields (${CRON_FIELDS}) such as '0 7 * * *', not '${raw}'`;
  const fields = raw.split(/\s+/).filter((field) => field !== '');
  if (!raw.startsWith('@') && fields.length !== 5) return fail(`${expected}, which has ${fields.length} field${fields.length === 1 ? '' : 's'}`);
  let job: Cron;
  try {
    // Paused and unnamed: nothing is scheduled and nothing is registered; only the pattern is parsed.
    job = new Cron(raw, { paused: true, mode: '5-part' });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    return fail(`${expected} (${reason.replace(/\.$/, '')})`);
  }
  // A fixed start keeps this pure; a five-field pattern repeats within 28 years, so a pattern
  // without a run from here never has one (like the 30th of February).
  const next = job.nextRun(new Date(Date.UTC(2000, 0, 1)));
  job.stop();
  return next === null ? fail(`schedule '${raw}' never fires; choose a day that exists`) : ok(raw);
}

const DEFAULT_SYSLOG_PORT = 514;
const MAX_PORT = 65_535;

/** `udp://HOST[:PORT]`, `tcp://HOST[:PORT]` (port 514 by default), or a Unix socket's path such as `/dev/log`. */
function parseSyslog(raw: string, home: string): ParsedValue<SyslogTarget> {
  const problem = fail(`syslog must be udp://HOST:PORT, tcp://HOST:PORT or the absolute path of a Unix socket, not '${raw}'`);
  if (raw === '~' || raw.startsWith('~/') || raw.startsWith('/')) return ok({ transport: 'unix', path: expandHome(raw, home) });
  const scheme = /^(udp|tcp):\/\//i.exec(raw);
  if (scheme === null) return problem;
  // URL refuses a port past 65535 as a whole; name the part that is wrong, and its range.
  const port = /^[a-z]+:\/\/(\[[^\]]*\]|[^/:?#@[\]]+):(\d+)\/?$/i.exec(raw)?.[2];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= MAX_PORT)) return fail(`syslog's port must be from 1 to ${MAX_PORT}, not '${raw}'`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return problem;
  }
  const extra = url.username !== '' || url.password !== '' || !['', '/'].includes(url.pathname) || url.search !== '' || url.hash !== '';
  if (url.hostname === '' || extra) return problem;
  // The URL keeps an IPv6 host in brackets; sockets want it bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return ok({ transport: (scheme[1] ?? '').toLowerCase() as 'udp' | 'tcp', host, port: url.port === '' ? DEFAULT_SYSLOG_PORT : Number(url.port) });
}

/** `udp://127.0.0.1:514`, `tcp://[::1]:514` or `/dev/log`: the form `syslog =` takes. */
export function formatSyslogTarget(target: SyslogTarget): string {
  if (target.transport === 'unix') return target.path;
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.transport}://${host}:${target.port}`;
}

const valueParsers: { readonly [K in SettingKey]: ValueParser<ValueOf<K>> } = {
  schedule: parseSchedule,
  max_age_days: days('max_age_days'),
  warn_age_days: days('warn_age_days'),
  old_key: oneOf<OldKeyAction>('old_key', ['delete', 'deactivate']),
  defer_on_sessions: boolean('defer_on_sessions'),
  backup: boolean('backup'),
  backup_keep: backupCount('backup_keep'),
  log: oneOf<LogTarget>('log', ['stdout', 'file', 'syslog']),
  log_file: path('log_file', 'a file path'),
  log_level: oneOf<LogLevel>('log_level', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  syslog: parseSyslog,
  notify: oneOf<NotifyMode>('notify', ['off', 'failures', 'all']),
  post_rotate: parseHookCommand,
};

/** Reads the text after `key =` (already trimmed, inline comment removed); pure. */
export function parseValue<K extends SettingKey>(key: K, raw: string, home: string): ParsedValue<ValueOf<K>> {
  return valueParsers[key](raw, home);
}
