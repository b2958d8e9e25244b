import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatSyslogTarget, parseValue } from '../../src/config/parse-value.js';
import type { SettingKey } from '../../src/config/settings.js';
import { getDueDate } from '../../src/rotation/policy.js';

const HOME = '/home/alice';

function problemOf(key: SettingKey, raw: string): string {
  const parsed = parseValue(key, raw, HOME);
  if (parsed.ok) throw new Error(`expected '${raw}' to be refused for ${key}`);
  return parsed.problem;
}

function valueOf(key: SettingKey, raw: string): unknown {
  const parsed = parseValue(key, raw, HOME);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
}

describe('schedule', () => {
  test.each(['0 7 * * *', '*/30 8-18 * * MON-FRI', '0 7 * * 1#2', '0 7 L * *', '@daily', '0  7 * * *'])('takes %j', (raw) => {
    expect(valueOf('schedule', raw)).toBe(raw);
  });

  test('refuses a bad field with croner\'s reason', () => {
    expect(problemOf('schedule', '61 * * * *')).toBe(
      "schedule must be a cron expression of five fields (minute hour day-of-month month day-of-week) such as '0 7 * * *', not '61 * * * *' (Invalid value for minute: 61)",
    );
  });

  test('refuses an EventBridge-style six-field expression rather than reading it as seconds', () => {
    expect(problemOf('schedule', '0 7 * * ? *')).toMatch(/not '0 7 \* \* \? \*', which has 6 fields$/);
  });

  test.each([['ninety', '1 field'], ['', '0 fields'], ['* * * *', '4 fields']])('refuses %j (%s)', (raw, fields) => {
    expect(problemOf('schedule', raw)).toMatch(new RegExp(`which has ${fields}$`));
  });

  test('refuses an unsupported nickname', () => {
    expect(problemOf('schedule', '@reboot')).toMatch(/^schedule must be a cron expression .* not '@reboot' \(@reboot is not supported/);
  });

  test('refuses a pattern that never fires', () => {
    expect(problemOf('schedule', '0 0 30 2 *')).toBe("schedule '0 0 30 2 *' never fires; choose a day that exists");
    expect(valueOf('schedule', '0 0 29 2 *')).toBe('0 0 29 2 *');
  });
});

describe('days', () => {
  test.each([['90', 90], ['0', 0], ['0.5', 0.5], ['.25', 0.25], ['007', 7], ['36500', 36500]])('max_age_days takes %j', (raw, value) => {
    expect(valueOf('max_age_days', raw)).toBe(value);
    expect(valueOf('warn_age_days', raw)).toBe(value);
  });

  test.each(['ninety', '-1', '1e3', '0x10', 'Infinity', '1.', '', '9 0'])('max_age_days and warn_age_days refuse %j', (raw) => {
    expect(problemOf('max_age_days', raw)).toBe(`max_age_days must be a number of days from 0 to 36500, not '${raw}'`);
    expect(problemOf('warn_age_days', raw)).toBe(`warn_age_days must be a number of days from 0 to 36500, not '${raw}'`);
  });

  // Issue 7, hole 8: 100000000 days passed, and computing the due date then crashed the run
  // with "Invalid time value". A string of 400 digits is Infinity once read.
  test.each(['100000000', '36500.5', '36501', '1'.padEnd(400, '0')])('max_age_days and warn_age_days refuse %j, past a century', (raw) => {
    expect(problemOf('max_age_days', raw)).toBe(`max_age_days must be a number of days from 0 to 36500, not '${raw}'`);
    expect(problemOf('warn_age_days', raw)).toBe(`warn_age_days must be a number of days from 0 to 36500, not '${raw}'`);
  });

  test('every accepted max_age_days gives a valid due date for any key IAM can have made', () => {
    // IAM dates from 2006; the upper end leaves room for keys made centuries from now.
    const created = fc.date({ min: new Date('2006-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true });
    const raw = fc.oneof(fc.nat({ max: 10 ** 9 }).map(String), fc.stringMatching(/^\d{1,12}(\.\d{1,6})?$/));
    fc.assert(
      fc.property(created, raw, (date, text) => {
        const parsed = parseValue('max_age_days', text, HOME);
        if (!parsed.ok) return;
        // toISOString is where the run crashed: "Invalid time value".
        expect(() => getDueDate(date, parsed.value).toISOString()).not.toThrow();
      }),
    );
  });
});

describe('backup_keep', () => {
  test.each([['0', 0], ['25', 25], ['10000', 10000]])('takes %j', (raw, value) => {
    expect(valueOf('backup_keep', raw)).toBe(value);
  });

  // Issue 7, hole 8 ("anything else numeric"): a count no one means is a typo, like the days.
  test.each(['2.5', '-1', 'ten', '10001', '99999999999999999999'])('refuses %j', (raw) => {
    expect(problemOf('backup_keep', raw)).toBe(`backup_keep must be a whole number from 0 to 10000 (0 keeps every backup), not '${raw}'`);
  });
});

describe('booleans', () => {
  test.each(['true', 'TRUE', 'yes', 'on', '1'])('%j is true', (raw) => {
    expect(valueOf('backup', raw)).toBe(true);
    expect(valueOf('defer_on_sessions', raw)).toBe(true);
  });
  test.each(['false', 'False', 'no', 'off', '0'])('%j is false', (raw) => {
    expect(valueOf('backup', raw)).toBe(false);
  });
  test('anything else is refused', () => {
    expect(problemOf('defer_on_sessions', 'maybe')).toBe("defer_on_sessions must be true or false, not 'maybe'");
  });
});

describe('words', () => {
  test('are case-insensitive and stored lower-case', () => {
    expect(valueOf('old_key', 'Deactivate')).toBe('deactivate');
    expect(valueOf('log_level', 'DEBUG')).toBe('debug');
    expect(valueOf('notify', 'all')).toBe('all');
  });
  test.each([
    ['old_key', 'keep', "old_key must be delete or deactivate, not 'keep'"],
    ['log', 'stderr', "log must be stdout, file or syslog, not 'stderr'"],
    ['log_level', 'verbose', "log_level must be fatal, error, warn, info, debug, trace or silent, not 'verbose'"],
    ['notify', 'some', "notify must be off, failures or all, not 'some'"],
  ] as const)('%s refuses %j', (key, raw, problem) => {
    expect(problemOf(key, raw)).toBe(problem);
  });
});

describe('paths', () => {
  test('expand ~ and keep absolute paths', () => {
    expect(valueOf('log_file', '~/logs/keyupd.log')).toBe('/home/alice/logs/keyupd.log');
    expect(valueOf('log_file', '/var/log/keyup.log')).toBe('/var/log/keyup.log');
    expect(valueOf('post_rotate', '~/bin/push-key')).toEqual({ command: '~/bin/push-key', argv: ['/home/alice/bin/push-key'] });
  });
  test.each(['keyupd.log', './keyupd.log', '~bob/keyupd.log'])('refuse the relative %j', (raw) => {
    expect(problemOf('log_file', raw)).toBe(`log_file must be a file path that is absolute or starts with ~/, not '${raw}'`);
  });
  test('post_rotate refuses a bare command name that PATH would resolve differently under systemd', () => {
    expect(problemOf('post_rotate', 'push-key')).toBe("post_rotate must start with the absolute path of a program (or ~/…), not 'push-key'; for a shell, write /bin/sh -c '…'");
  });
});

describe('syslog', () => {
  test.each([
    ['udp://127.0.0.1:514', { transport: 'udp', host: '127.0.0.1', port: 514 }],
    ['TCP://logs.example.com:6514', { transport: 'tcp', host: 'logs.example.com', port: 6514 }],
    ['udp://logs', { transport: 'udp', host: 'logs', port: 514 }],
    ['udp://[::1]:514/', { transport: 'udp', host: '::1', port: 514 }],
    ['/dev/log', { transport: 'unix', path: '/dev/log' }],
    ['~/syslog.sock', { transport: 'unix', path: '/home/alice/syslog.sock' }],
  ])('takes %j', (raw, target) => {
    expect(valueOf('syslog', raw)).toEqual(target);
  });

  test.each(['127.0.0.1:514', 'http://h:514', 'udp://:514', 'udp://u@h:514', 'udp://h:514/x', 'udp://h:514?a', 'dev/log', ''])(
    'refuses %j',
    (raw) => {
      expect(problemOf('syslog', raw)).toBe(`syslog must be udp://HOST:PORT, tcp://HOST:PORT or the absolute path of a Unix socket, not '${raw}'`);
    },
  );

  test.each(['udp://h:0', 'udp://h:70000', 'tcp://[::1]:65536/', 'udp://h:99999999999999999999'])('refuses the port of %j, saying the range', (raw) => {
    expect(problemOf('syslog', raw)).toBe(`syslog's port must be from 1 to 65535, not '${raw}'`);
  });

  test('formats back to the form the file takes', () => {
    expect(formatSyslogTarget({ transport: 'udp', host: '127.0.0.1', port: 514 })).toBe('udp://127.0.0.1:514');
    expect(formatSyslogTarget({ transport: 'tcp', host: '::1', port: 514 })).toBe('tcp://[::1]:514');
    expect(formatSyslogTarget({ transport: 'unix', path: '/dev/log' })).toBe('/dev/log');
  });
});
