import { describe, expect, it } from 'vitest';
import { createPaint, shouldUseColor, stripColor } from '../../src/ctl/color.js';
import { formatConfig } from '../../src/ctl/config.js';
import { formatAge, formatDate, formatDateTime, formatRelative, formatSeconds, getDueDate, toClause } from '../../src/ctl/format.js';
import { formatKeys, formatLastUsed } from '../../src/ctl/keys.js';
import { formatState, formatStatus } from '../../src/ctl/status.js';
import { renderTable, visibleWidth } from '../../src/ctl/table.js';
import { NOW, makeStatus } from './ctl-harness.js';

const plain = createPaint(false);
const colour = createPaint(true);

// Local times are shown; these tests pin them by asking what the local clock says.
const local = (iso: string) => {
  const date = new Date(iso);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

describe('numbers and times', () => {
  it('ages in days with one decimal', () => {
    expect(formatAge(54.24)).toBe('54.2d');
    expect(formatAge(0)).toBe('0.0d');
    expect(formatAge(89.96)).toBe('90.0d');
    expect(formatAge(null)).toBe('-');
    expect(formatAge(Number.NaN)).toBe('-');
  });

  it('dates and times in local time; what is not a date as it came', () => {
    expect(formatDateTime('2026-11-24T07:00:00Z')).toBe(local('2026-11-24T07:00:00Z'));
    expect(formatDate('2026-11-24T12:00:00Z')).toBe(local('2026-11-24T12:00:00Z').slice(0, 10));
    expect(formatDate('someday')).toBe('someday');
  });

  it('relative times, roughly', () => {
    expect(formatRelative('2026-11-24T10:00:20Z', NOW)).toBe('now');
    expect(formatRelative('2026-11-24T10:05:00Z', NOW)).toBe('in 5 min');
    expect(formatRelative('2026-11-25T07:00:00Z', NOW)).toBe('in 21 h');
    expect(formatRelative('2026-11-21T10:00:00Z', NOW)).toBe('3 d ago');
  });

  it('seconds, due dates, engine sentences as clauses', () => {
    expect(formatSeconds(3149)).toBe('3.1 s');
    expect(formatSeconds(-5)).toBe('0.0 s');
    expect(getDueDate('2026-10-01T09:00:00Z', 90)).toBe('2026-12-30T09:00:00.000Z');
    expect(getDueDate(null, 90)).toBeUndefined();
    expect(toClause('The key AKIA…1234 is old.')).toBe('the key AKIA…1234 is old');
    expect(toClause('AWS accepts the key.')).toBe('AWS accepts the key');
    expect(toClause('IAM has not spread the new key yet; waiting.')).toBe('IAM has not spread the new key yet; waiting');
  });
});

describe('colour', () => {
  it('only on a terminal, never with NO_COLOR (any value, even empty), --no-color or TERM=dumb', () => {
    expect(shouldUseColor({ env: {}, isTTY: true, noColorFlag: false })).toBe(true);
    expect(shouldUseColor({ env: {}, isTTY: false, noColorFlag: false })).toBe(false);
    expect(shouldUseColor({ env: { NO_COLOR: '' }, isTTY: true, noColorFlag: false })).toBe(false);
    expect(shouldUseColor({ env: { NO_COLOR: '1' }, isTTY: true, noColorFlag: false })).toBe(false);
    expect(shouldUseColor({ env: {}, isTTY: true, noColorFlag: true })).toBe(false);
    expect(shouldUseColor({ env: { TERM: 'dumb' }, isTTY: true, noColorFlag: false })).toBe(false);
  });

  it('paints with escape codes that take no width', () => {
    expect(colour('red', 'x')).toBe('\u001b[31mx\u001b[39m');
    expect(plain('red', 'x')).toBe('x');
    expect(stripColor(colour('bold', colour('green', 'ok')))).toBe('ok');
    expect(visibleWidth(colour('green', 'AKIA…1234'))).toBe(9);
  });
});

describe('renderTable', () => {
  it('aligns columns two spaces apart by what shows, with no trailing spaces', () => {
    expect(renderTable(['A', 'BB', 'C'], [['long cell', colour('red', 'x'), ''], ['y', '…', 'last']])).toEqual(['A          BB  C', `long cell  ${colour('red', 'x')}`, 'y          …   last']);
  });
});

describe('state marks', () => {
  it('gives each state its own mark, coloured on a terminal', () => {
    const states = ['ok', 'warn', 'due', 'deferred', 'rotating', 'busy', 'needs-mfa', 'error'];
    const marks = states.map((state) => formatState(state, plain));
    expect(marks).toEqual(['✓ ok', '! warn', '» due', '‖ deferred', '↻ rotating', '~ busy', '? needs-mfa', '✗ error']);
    expect(new Set(marks.map((mark) => mark[0])).size).toBe(states.length);
    expect(formatState('error', colour)).toBe('\u001b[31m✗ error\u001b[39m');
    expect(formatState('sleeping', plain)).toBe('· sleeping');
  });
});

describe('formatStatus', () => {
  it('shows the header, the table and each error’s hint', () => {
    const lines = formatStatus(makeStatus(), { paint: plain, now: NOW });
    expect(lines[0]).toBe(`keyupd 1.0.0, pid 4242, up since ${local('2026-11-24T07:00:00Z')} · schedule 0 7 * * * · next check ${local('2026-11-25T07:00:00Z')} (in 21 h)`);
    expect(lines[1]).toBe('');
    expect(lines[2]).toMatch(/^PROFILE +USER +KEY +AGE +STATE +NEXT \/ LAST ROTATION +ERROR \/ DEFERRED$/);
    expect(lines.at(-1)).toBe('broken: Put a working access key in profile broken.');
  });

  it('shows warn-aged keys, rotation in progress, needs-mfa and a failed last rotation', () => {
    const [first] = makeStatus().profiles;
    const status = makeStatus({
      profiles: [
        { ...first!, profile: 'old', key_age_days: 85, state: 'warn', last_rotation: { at: '2026-08-01T09:00:00Z', old_key_id: 'AKIAOLDOLDOLDOLD1234', new_key_id: null, ok: false } },
        { ...first!, profile: 'now', state: 'rotating' },
        { ...first!, profile: 'mfa', state: 'needs-mfa' },
      ],
      next_check: null,
    });
    const lines = formatStatus(status, { paint: colour, now: NOW }).map(stripColor);
    expect(lines[0]).toMatch(/ · no check planned$/);
    expect(lines.find((line) => line.startsWith('old '))).toMatch(/85\.0d +! warn +2026-12-30 \/ 2026-08-01 \(failed\)$/);
    expect(lines.find((line) => line.startsWith('now '))).toMatch(/↻ rotating +now \/ /);
    expect(lines.find((line) => line.startsWith('mfa '))).toMatch(/\? needs-mfa .* IAM wants MFA: run keyupctl rotate now$/);
    // The warn age is painted yellow.
    expect(formatStatus(status, { paint: colour, now: NOW }).find((line) => line.startsWith('old '))).toContain('\u001b[33m85.0d\u001b[39m');
  });

  it('says when keyupd manages no profile', () => {
    expect(formatStatus(makeStatus({ profiles: [] }), { paint: plain, now: NOW }).at(-1)).toBe('keyupd manages no profile.');
  });
});

describe('formatKeys', () => {
  it('shows a heading per profile, a failed one without a table, never-used keys as never', () => {
    const lines = formatKeys(
      [
        { profile: 'default', user: 'alice', account: '1', keys: [{ key_id: 'AKIAIOSFODNN7EXAMPLE', status: 'Active', created: '2026-10-01T12:00:00Z', age_days: 54.2, last_used: null, in_profiles: ['default'], managed: true }], error: null },
        { profile: 'bad', user: null, account: null, keys: [], error: { code: 'key-invalid', message: 'Not valid.', hint: null } },
      ],
      plain,
    );
    expect(lines).toEqual([
      'default (user alice, account 1)',
      'KEY ID                STATUS  CREATED     AGE    LAST USED  PROFILES  MANAGED',
      `AKIAIOSFODNN7EXAMPLE  Active  ${local('2026-10-01T12:00:00Z').slice(0, 10)}  54.2d  never      default   yes`,
      '',
      'bad',
      'keys not listed: Not valid.',
    ]);
    expect(formatLastUsed({ date: '2026-11-20T12:00:00Z', service: 's3', region: null })).toBe(`${local('2026-11-20T12:00:00Z').slice(0, 10)} s3`);
    expect(formatLastUsed({ date: null, service: null, region: null })).toBe('never');
  });
});

describe('formatConfig', () => {
  it('renders each value with its source, why each profile is managed, and what is not supported yet', () => {
    const config = {
      file: '/c/config',
      found: false,
      keyup: { schedule: { value: '0 7 * * *', source: 'default' }, post_rotate: { value: null, source: 'default' } },
      profiles: { ci: { manage_with: { value: 'admin', source: 'file:6' }, max_age_days: { value: 30, source: 'env:KEYUP_X' } } },
      managed: { ci: 'file:5' },
      unsupported_keys: ['notify'],
    };
    expect(formatConfig(config, plain)).toEqual([
      '; keyup configuration from /c/config (no such file: every value is a default)',
      '',
      '[keyup]',
      'schedule = 0 7 * * *      ; default',
      '; post_rotate is not set  ; default',
      '',
      '[profile ci]              ; managed: file:5',
      'manage_with = admin       ; file:6',
      'max_age_days = 30         ; env:KEYUP_X',
      '',
      '; not supported yet by this version: notify',
    ]);
    expect(formatConfig(config, colour).map(stripColor)).toEqual(formatConfig(config, plain));
  });
});

describe('formatConfig after a refused reload', () => {
  it('says first that the file on disk was refused and which configuration runs', () => {
    const config = {
      file: '/c/config',
      found: false,
      keyup: { schedule: { value: '0 7 * * *', source: 'default' } },
      profiles: {},
      managed: {},
      config_error: { code: 'config-invalid', message: '/c/config, line 3: unknown key max_age.', hint: 'Fix or remove the key.' },
    };
    expect(formatConfig(config, plain).slice(0, 2)).toEqual([
      '; Configuration not applied: /c/config, line 3: unknown key max_age. Fix or remove the key. keyupd keeps running the configuration below.',
      '; keyup configuration from /c/config (no such file: every value is a default)',
    ]);
    expect(formatConfig({ ...config, config_error: null }, plain)[0]).toBe('; keyup configuration from /c/config (no such file: every value is a default)');
  });
});

describe('keyupctl config with hooks', () => {
  it('shows a key given on several lines (post_rotate) a line per value', async () => {
    const { formatConfig } = await import('../../src/ctl/config.js');
    const lines = formatConfig(
      { file: '/c', found: true, keyup: { post_rotate: { value: ['~/bin/a', '/bin/sh -c "b"'], source: 'file:3' } }, profiles: { p: { post_rotate: { value: [], source: 'file:9' } } }, managed: { p: 'file:8' } },
      (_style, text) => text,
    );
    expect(lines.filter((line) => line.includes('post_rotate'))).toEqual(['post_rotate = ~/bin/a         ; file:3', 'post_rotate = /bin/sh -c "b"  ; file:3', '; post_rotate is not set      ; file:9']);
  });
});
