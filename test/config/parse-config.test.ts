import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { Env } from '../../src/paths.js';
import type { KeyupConfig, ParseConfigInit } from '../../src/config/parse-config.js';
import { getDefaultConfig, parseConfig } from '../../src/config/parse-config.js';
import type { SettingKey } from '../../src/config/settings.js';
import { settingKeys, unsupportedKeys } from '../../src/config/settings.js';

const FILE = '/home/alice/.config/keyup/config';
const HOME = '/home/alice';
const ALL_SUPPORTED: ParseConfigInit = { unsupportedKeys: new Set<SettingKey>() };

function parse(text: string, env: Env = {}, init: ParseConfigInit = ALL_SUPPORTED): KeyupConfig {
  return parseConfig(text, FILE, env, HOME, init);
}

function errorOf(text: string, init: ParseConfigInit = ALL_SUPPORTED): ConfigError {
  try {
    parse(text, {}, init);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const at = (line: number, section: string) => ({ kind: 'file', file: FILE, line, section });

describe('defaults', () => {
  test('an empty file gives SPEC\'s default for every key', () => {
    expect(parse('').daemon).toEqual({
      schedule: '0 7 * * *',
      maxAgeDays: 90,
      warnAgeDays: 80,
      oldKey: 'delete',
      deferOnSessions: true,
      backup: true,
      backupKeep: 10,
      log: 'stdout',
      logFile: '/home/alice/.local/state/keyup/keyupd.log',
      logLevel: 'info',
      syslog: { transport: 'udp', host: '127.0.0.1', port: 514 },
      notify: 'failures',
      postRotate: [],
    });
    expect(Object.values(parse('').daemonSources).every((source) => source.kind === 'default')).toBe(true);
  });

  test('the default log_file follows $XDG_STATE_HOME', () => {
    expect(parse('', { XDG_STATE_HOME: '/var/state' }).daemon.logFile).toBe('/var/state/keyup/keyupd.log');
  });

  test('comments and blank lines alone change nothing', () => {
    expect(parse('; nothing\n\n# here\n').daemon).toEqual(parse('').daemon);
  });

  test('getDefaultConfig is the empty file, marked as not found', () => {
    const config = getDefaultConfig(FILE, {}, HOME, ALL_SUPPORTED);
    expect(config.found).toBe(false);
    expect(parse('').found).toBe(true);
    expect(config.daemon).toEqual(parse('').daemon);
  });
});

describe('[keyup] and [profile] sections', () => {
  const text = [
    '[profile default]', //              1
    'max_age_days = 30  ; tighter', //   2
    'old_key = deactivate', //           3
    '', //                               4
    '[keyup]', //                        5
    'warn_age_days = 20', //             6
    'max_age_days = 45', //              7
    'log = file', //                     8
    '', //                               9
    '[profile ci-bot]', //              10
    'manage_with = admin', //           11
  ].join('\n');

  test('[keyup] overrides the defaults for the daemon; the order of sections does not matter', () => {
    const config = parse(text);
    expect(config.daemon).toMatchObject({ maxAgeDays: 45, warnAgeDays: 20, log: 'file', oldKey: 'delete' });
    expect(config.daemonSources).toMatchObject({ maxAgeDays: at(7, 'keyup'), warnAgeDays: at(6, 'keyup'), oldKey: { kind: 'default' } });
  });

  test('a profile overrides [keyup], which overrides the defaults, each with its source', () => {
    const [first, second] = parse(text).profiles;
    expect(first?.name).toBe('default');
    expect(first?.source).toEqual(at(1, 'profile default'));
    expect(first?.settings).toMatchObject({ maxAgeDays: 30, oldKey: 'deactivate', warnAgeDays: 20, log: 'file', backupKeep: 10 });
    expect(first?.sources).toMatchObject({
      maxAgeDays: at(2, 'profile default'),
      oldKey: at(3, 'profile default'),
      warnAgeDays: at(6, 'keyup'),
      log: at(8, 'keyup'),
      backupKeep: { kind: 'default' },
    });
    expect(first?.manageWith).toBeUndefined();

    expect(second?.name).toBe('ci-bot');
    expect(second?.settings.maxAgeDays).toBe(45);
    expect(second?.manageWith).toBe('admin');
    expect(second?.manageWithSource).toEqual(at(11, 'profile ci-bot'));
  });

  test('profiles keep file order and names keep their case', () => {
    expect(parse('[profile b]\n[profile A]\n[profile a]\n').profiles.map((profile) => profile.name)).toEqual(['b', 'A', 'a']);
  });

  test('every key of [keyup] except the daemon-wide ones may be set per profile', () => {
    const text = '[profile p]\nmax_age_days = 1\nwarn_age_days = 1\nold_key = deactivate\ndefer_on_sessions = no\nbackup = off\nbackup_keep = 0\nnotify = all\npost_rotate = /bin/true\n';
    expect(parse(text).profiles[0]?.settings).toMatchObject({
      maxAgeDays: 1,
      warnAgeDays: 1,
      oldKey: 'deactivate',
      deferOnSessions: false,
      backup: false,
      backupKeep: 0,
      notify: 'all',
      postRotate: [{ command: '/bin/true', argv: ['/bin/true'] }],
    });
  });

  test('~ is expanded in paths', () => {
    expect(parse('[keyup]\nlog_file = ~/keyup.log\npost_rotate = ~/bin/push-key\n').daemon).toMatchObject({
      logFile: '/home/alice/keyup.log',
      postRotate: [{ command: '~/bin/push-key', argv: ['/home/alice/bin/push-key'] }],
    });
  });

  test('the result is deeply frozen', () => {
    const config = parse(text);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.profiles)).toBe(true);
    expect(Object.isFrozen(config.profiles[0]?.settings)).toBe(true);
    expect(Object.isFrozen(config.daemon.syslog)).toBe(true);
    expect(Object.isFrozen(config.daemonSources.schedule)).toBe(true);
  });
});

describe('managed profiles without a [profile] section', () => {
  test('$AWS_PROFILE, with its source', () => {
    const config = parse('[keyup]\nmax_age_days = 7\n', { AWS_PROFILE: 'work' });
    expect(config.profiles).toHaveLength(1);
    expect(config.profiles[0]).toMatchObject({ name: 'work', source: { kind: 'env', name: 'AWS_PROFILE' }, settings: { maxAgeDays: 7 } });
    expect(config.profiles[0]?.sources.maxAgeDays).toEqual(at(2, 'keyup'));
  });

  test.each([{}, { AWS_PROFILE: '' }, { AWS_PROFILE: '  ' }])('else default (env %j)', (env) => {
    expect(parse('', env).profiles.map(({ name, source }) => ({ name, source }))).toEqual([{ name: 'default', source: { kind: 'default' } }]);
  });

  test('$AWS_PROFILE is ignored once the file names profiles', () => {
    expect(parse('[profile ci]\n', { AWS_PROFILE: 'work' }).profiles.map((profile) => profile.name)).toEqual(['ci']);
  });
});

describe('errors name the file, the line and the key', () => {
  test.each([
    ['an unknown key, with a suggestion', '[keyup]\nmax_age = 3\n', 2, 'max_age is not a keyup key (in [keyup]); perhaps you meant max_age_days'],
    [
      'an unknown key, with the list of keys',
      '[profile dev]\nregion = eu-west-1\n',
      2,
      `region is not a keyup key (in [profile dev]); keyup's keys are ${settingKeys.join(', ')}, manage_with`,
    ],
    ['a bad value', '[keyup]\n\n\nmax_age_days = ninety\n', 4, "max_age_days must be a number of days from 0 to 36500, not 'ninety'"],
    ['a bad value in a profile', '[profile a]\nbackup = maybe\n', 2, "backup must be true or false, not 'maybe'"],
    ['a bad cron expression', '[keyup]\nschedule = 0 25 * * *\n', 2, "schedule must be a cron expression of five fields (minute hour day-of-month month day-of-week) such as '0 7 * * *', not '0 25 * * *' (Invalid value for hour: 25)"],
    ['a key outside any section', 'log = file\n[keyup]\n', 1, 'log is outside any section; put it under [keyup] or under a [profile NAME] section'],
    ['an unknown section', '[keyup]\n[settings]\n', 2, '[settings] is not a keyup section; use [keyup] or [profile NAME]'],
    ['a section in the wrong case', '[Keyup]\n', 1, '[Keyup] is not a keyup section; use [keyup] or [profile NAME] (section names are case-sensitive)'],
    ['[default], ambiguous', '[default]\n', 1, '[default] is not a keyup section; write [profile default] for the default profile, or [keyup] for settings of every profile'],
    ['[profile] without a name', '[profile]\n', 1, '[profile] needs a profile name, like [profile default]'],
    ['[profile] with two names', '[profile a b]\n', 1, '[profile a b] has a space in its profile name; name one profile per section, like [profile ci-bot]'],
    ['a duplicate section', '[profile a]\n\n[profile a]\n', 3, '[profile a] already appears on line 1; merge the two sections into one'],
    ['a duplicate key', '[keyup]\nbackup = true\nbackup = false\n', 3, 'backup is already set on line 2 in [keyup]; keep only one of them'],
    ['a daemon-wide key in a profile', '[profile a]\nschedule = 0 8 * * *\n', 2, 'schedule applies to the whole daemon, not to one profile; move it to [keyup]'],
    ['manage_with in [keyup]', '[keyup]\nmanage_with = admin\n', 2, 'manage_with only belongs in a [profile NAME] section; move it there'],
    ['manage_with naming itself', '[profile admin]\nmanage_with = admin\n', 2, 'manage_with names [profile admin] itself; name another profile, or remove it to use the profile\'s own key'],
    ['manage_with empty', '[profile a]\nmanage_with =\n', 2, "manage_with must name one profile, like manage_with = admin, not ''"],
    // Issue 7, hole 8: this passed, then crashed the whole run computing a due date.
    ['max_age_days past a century', '[keyup]\nmax_age_days = 100000000\n', 2, "max_age_days must be a number of days from 0 to 36500, not '100000000'"],
    ['max_age_days past a century in a profile', '[profile a]\nmax_age_days = 30\n[profile b]\nmax_age_days = 100000000\n', 4, "max_age_days must be a number of days from 0 to 36500, not '100000000'"],
    ['warn_age_days past a century in a profile', '[profile a]\nwarn_age_days = 99999999\n', 2, "warn_age_days must be a number of days from 0 to 36500, not '99999999'"],
    ['backup_keep past the limit', '[keyup]\nbackup_keep = 1000000\n', 2, "backup_keep must be a whole number from 0 to 10000 (0 keeps every backup), not '1000000'"],
    ['a syslog port past 65535', '[keyup]\nsyslog = udp://h:70000\n', 2, "syslog's port must be from 1 to 65535, not 'udp://h:70000'"],
    ['warn above max in one section', '[keyup]\nmax_age_days = 30\nwarn_age_days = 40\n', 3, 'warn_age_days (40) must not exceed max_age_days (30, line 2) in [keyup]; lower it, or raise max_age_days'],
  ])('%s', (_, text, line, problem) => {
    const error = errorOf(text);
    expect(error.message).toBe(`${FILE}, line ${line}: ${problem}.`);
    expect(error).toMatchObject({ file: FILE, line, exitCode: 2 });
  });

  test('the first problem in line order is reported', () => {
    expect(errorOf('[keyup]\nlog = loud\n[nope]\n').line).toBe(2);
  });

  test('a section header is judged before its keys', () => {
    expect(errorOf('[nope]\nlog = loud\n').line).toBe(1);
  });
});

describe('warn_age_days against max_age_days', () => {
  test('an inherited max below the warning age is allowed: SPEC\'s own example does it', () => {
    const config = parse('[keyup]\nwarn_age_days = 80\n[profile default]\nmax_age_days = 30\n');
    expect(config.profiles[0]?.settings).toMatchObject({ maxAgeDays: 30, warnAgeDays: 80 });
  });

  test('max_age_days = 0 (rotate at every check) takes any warning age', () => {
    expect(parse('[keyup]\nmax_age_days = 0\nwarn_age_days = 5\n').daemon).toMatchObject({ maxAgeDays: 0, warnAgeDays: 5 });
  });

  test('equal ages are fine', () => {
    expect(parse('[profile a]\nmax_age_days = 10\nwarn_age_days = 10\n').profiles[0]?.settings.warnAgeDays).toBe(10);
  });
});

describe('keys this build does not support yet', () => {
  test('there are none now', () => {
    expect([...unsupportedKeys]).toEqual([]);
    expect(parse('', {}, {}).unsupportedKeys).toEqual([]);
  });

  test('notify is supported: its values are taken, and its default is failures', () => {
    expect(parse('[keyup]\nnotify = OFF\n', {}, {}).daemon.notify).toBe('off');
    expect(parse('[profile a]\nnotify = all\n', {}, {}).profiles[0]?.settings.notify).toBe('all');
    expect(parse('', {}, {}).daemon.notify).toBe('failures');
    expect(errorOf('[keyup]\nnotify = nonsense\n', {}).message).toContain('notify must be off, failures or all');
  });

  test('the list is a parameter, so a build may still refuse a key', () => {
    const init = { unsupportedKeys: new Set<SettingKey>(['post_rotate']) };
    expect(errorOf('[keyup]\npost_rotate = /bin/true\n', init).message).toBe(`${FILE}, line 2: post_rotate is not supported yet by this version of keyup; remove it.`);
  });
});

describe('post_rotate: one hook per line', () => {
  test('several lines in a section are several hooks, in order, each run without a shell', () => {
    const config = parse('[keyup]\npost_rotate = ~/bin/push-to-github ci-key\npost_rotate = /bin/sh -c "echo rotated >> ~/rotations.log"\n');
    expect(config.daemon.postRotate).toEqual([
      { command: '~/bin/push-to-github ci-key', argv: ['/home/alice/bin/push-to-github', 'ci-key'] },
      { command: '/bin/sh -c "echo rotated >> ~/rotations.log"', argv: ['/bin/sh', '-c', 'echo rotated >> ~/rotations.log'] },
    ]);
    expect(config.daemonSources.postRotate).toEqual(at(2, 'keyup'));
  });

  test("a profile's hooks replace [keyup]'s, and an empty value runs none", () => {
    const config = parse('[keyup]\npost_rotate = /bin/a\n[profile x]\npost_rotate = /bin/b\n[profile y]\npost_rotate =\n[profile z]\n');
    expect(config.profiles.map((profile) => [profile.name, profile.settings.postRotate.map((hook) => hook.command)])).toEqual([
      ['x', ['/bin/b']],
      ['y', []],
      ['z', ['/bin/a']],
    ]);
  });

  test('other keys still may not be repeated', () => {
    expect(errorOf('[keyup]\nmax_age_days = 1\nmax_age_days = 2\n', {}).message).toContain('max_age_days is already set on line 2');
  });

  test.each([
    ['push-key', "post_rotate must start with the absolute path of a program (or ~/…), not 'push-key'; for a shell, write /bin/sh -c '…'"],
    ["/bin/sh -c 'unclosed", "post_rotate has an unclosed quote or a trailing backslash: '/bin/sh -c 'unclosed'"],
  ])('refuses %j', (value, problem) => {
    expect(errorOf(`[keyup]\npost_rotate = ${value}\n`, {}).message).toBe(`${FILE}, line 2: ${problem}.`);
  });
});

test('parseConfig is pure: the same input gives an equal result, and env is not changed', () => {
  const env = { AWS_PROFILE: 'work' };
  expect(parse('[keyup]\nlog = file\n', env)).toEqual(parse('[keyup]\nlog = file\n', env));
  expect(env).toEqual({ AWS_PROFILE: 'work' });
});

test.each([
  ['notifi', 'notify'],
  ['max_age_day', 'max_age_days'],
  ['max_age', 'max_age_days'],
  ['manage-with', 'manage_with'],
  ['logfile', 'log_file'],
])('an unknown key %s suggests %s', (key, near) => {
  expect(errorOf(`[profile p]\n${key} = 1\n`).message).toMatch(new RegExp(`; perhaps you meant ${near}\\.$`));
});

// Issue 8, item 9: ConfigError ends the problem with a period, so a problem ending in a question
// ("did you mean notify?") read "did you mean notify?." on the terminal.
test.each(['[keyup]\nnotifi = off\n', '[profile p]\nregion = x\n', '[keyup]\nmax_age_days = 100000000\n', '[Keyup]\n', '[keyup]\nlog = loud\n'])(
  'the sentence of %j ends with one period',
  (text) => {
    expect(errorOf(text).message).toMatch(/[^.?!]\.$/);
  },
);
