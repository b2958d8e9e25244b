import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { formatSource, renderConfig, toConfigJson } from '../../src/config/render-config.js';
import type { SettingKey } from '../../src/config/settings.js';

const FILE = '/home/alice/.config/keyup/config';
const HOME = '/home/alice';

const text = ['[keyup]', 'max_age_days = 45', 'syslog = tcp://[::1]:601', '', '[profile ci-bot]', 'manage_with = admin', 'backup_keep = 3', ''].join('\n');

test('formatSource', () => {
  expect(formatSource({ kind: 'default' })).toBe('default');
  expect(formatSource({ kind: 'env', name: 'AWS_PROFILE' })).toBe('env AWS_PROFILE');
  expect(formatSource({ kind: 'file', file: FILE, line: 4, section: 'profile ci-bot' })).toBe(`${FILE}:4 [profile ci-bot]`);
});

describe('renderConfig', () => {
  test('prints every effective value as keyup INI, with its source as a comment', () => {
    const config = parseConfig(text, FILE, {}, HOME, { unsupportedKeys: new Set<SettingKey>(['notify']) });
    const lines = renderConfig(config).split('\n');
    const lineOf = (start: string): string | undefined => lines.find((line) => line.startsWith(start));

    expect(lines[0]).toBe(`; keyup configuration from ${FILE}`);
    expect(lineOf('schedule = ')).toMatch(/^schedule = 0 7 \* \* \* +; default$/);
    expect(lineOf('max_age_days = ')).toMatch(new RegExp(`^max_age_days = 45 +; ${FILE}:2 \\[keyup\\]$`));
    expect(lineOf('syslog = ')).toMatch(/^syslog = tcp:\/\/\[::1\]:601 +;/);
    expect(lineOf('; post_rotate is not set')).toMatch(/; default$/);
    expect(lineOf('notify = ')).toMatch(/; default; not supported yet by this version$/);
    expect(lineOf('[profile ci-bot]')).toMatch(new RegExp(`; managed: ${FILE}:5 \\[profile ci-bot\\]$`));
    expect(lineOf('manage_with = admin')).toMatch(new RegExp(`; ${FILE}:6 \\[profile ci-bot\\]$`));
    expect(lineOf('backup_keep = 3')).toMatch(new RegExp(`; ${FILE}:7 \\[profile ci-bot\\]$`));
    // Daemon-wide keys appear once, under [keyup].
    expect(lines.filter((line) => line.startsWith('schedule ='))).toHaveLength(1);
    // Comments line up.
    const columns = new Set(lines.filter((line) => / {2}; /.test(line)).map((line) => line.indexOf('  ; ')));
    expect(columns.size).toBe(1);
  });

  test('says when there was no file and why a profile is managed', () => {
    const config = parseConfig('', FILE, { AWS_PROFILE: 'work' }, HOME);
    const output = renderConfig(config);
    expect(output.startsWith(`; keyup configuration from ${FILE}\n`)).toBe(true);
    expect(renderConfig({ ...config, found: false })).toContain('(no such file: every value is a default)');
    expect(output).toMatch(/\[profile work\] +; managed: env AWS_PROFILE\n/);
    expect(output.endsWith('\n')).toBe(true);
  });

  // Not for every config: with an inherited max_age_days below warn_age_days (allowed), the
  // output states both in one section, which is refused as a contradiction.
  test('the output reads back as the same configuration', () => {
    const config = parseConfig(text.replace('[keyup]\n', '[keyup]\nwarn_age_days = 40\n'), FILE, {}, HOME, { unsupportedKeys: new Set() });
    const again = parseConfig(renderConfig(config), FILE, {}, HOME, { unsupportedKeys: new Set() });
    expect(again.daemon).toEqual(config.daemon);
    expect(again.profiles.map((profile) => [profile.name, profile.settings, profile.manageWith])).toEqual(
      config.profiles.map((profile) => [profile.name, profile.settings, profile.manageWith]),
    );
  });
});

describe('toConfigJson', () => {
  test('is SPEC\'s shape: every value with its source as default, file:LINE or env:NAME', () => {
    const config = parseConfig(text, FILE, {}, HOME);
    const json = toConfigJson(config);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.file).toBe(FILE);
    expect(json.found).toBe(true);
    expect(json.keyup.max_age_days).toEqual({ value: 45, source: 'file:2' });
    expect(json.keyup.schedule).toEqual({ value: '0 7 * * *', source: 'default' });
    expect(json.keyup.syslog?.value).toBe('tcp://[::1]:601');
    expect(json.keyup.post_rotate).toEqual({ value: [], source: 'default' });
    expect(json.keyup.notify?.value).toBe('failures');
    expect(json.unsupported_keys).toEqual([]);

    const profile = json.profiles['ci-bot'];
    expect(profile?.manage_with).toEqual({ value: 'admin', source: 'file:6' });
    expect(profile?.backup_keep).toEqual({ value: 3, source: 'file:7' });
    expect(profile?.max_age_days).toEqual({ value: 45, source: 'file:2' });
    expect(profile?.schedule).toBeUndefined();
    expect(json.managed).toEqual({ 'ci-bot': 'file:5' });
  });

  test('a profile managed because of $AWS_PROFILE says so, and has no manage_with', () => {
    const json = toConfigJson(parseConfig('', FILE, { AWS_PROFILE: 'work' }, HOME));
    expect(json.managed).toEqual({ work: 'env:AWS_PROFILE' });
    expect(json.profiles.work?.manage_with).toBeUndefined();
  });
});
