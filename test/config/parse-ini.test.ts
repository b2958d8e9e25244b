import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseIni } from '../../src/config/parse-ini.js';

const FILE = '/home/alice/.config/keyup/config';

function errorOf(text: string): ConfigError {
  try {
    parseIni(text, FILE);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseIni', () => {
  test('reads sections and entries with 1-based lines, skipping comments and blank lines', () => {
    const text = ['; a comment', '# another', '', '[keyup]', 'max_age_days = 30', '', '[profile ci-bot]', 'manage_with=admin'].join('\n');
    expect(parseIni(text, FILE)).toEqual([
      { name: 'keyup', line: 4, entries: [{ key: 'max_age_days', value: '30', line: 5 }] },
      { name: 'profile ci-bot', line: 7, entries: [{ key: 'manage_with', value: 'admin', line: 8 }] },
    ]);
  });

  test('strips inline comments after whitespace, keeping spaces and * inside the value', () => {
    const [section] = parseIni('[keyup]   ; daemon-wide\nschedule = 0 7 * * *   ; cron\nlog = file # where\n', FILE);
    expect(section?.entries.map((entry) => entry.value)).toEqual(['0 7 * * *', 'file']);
  });

  test('keeps ; and # that follow no whitespace, as in croner\'s 1#2', () => {
    const [section] = parseIni('[keyup]\nschedule = 0 7 * * 1#2 ; second Monday\n', FILE);
    expect(section?.entries[0]?.value).toBe('0 7 * * 1#2');
  });

  test('an indented comment line continuing a comment is a comment (SPEC example)', () => {
    const [section] = parseIni('[keyup]\npost_rotate = ~/bin/push-key ; run after\n                             ; retired; the new secret\n', FILE);
    expect(section?.entries).toEqual([{ key: 'post_rotate', value: '~/bin/push-key', line: 2 }]);
  });

  test('CRLF line endings and a BOM change neither values nor line numbers', () => {
    expect(parseIni('\uFEFF[keyup]\r\nlog = file\r\n\r\nlog_level = debug\r\n', FILE)).toEqual([
      {
        name: 'keyup',
        line: 1,
        entries: [
          { key: 'log', value: 'file', line: 2 },
          { key: 'log_level', value: 'debug', line: 4 },
        ],
      },
    ]);
  });

  test('lower-cases keys like the AWS CLI, keeps section names as written', () => {
    const [section] = parseIni('[profile  Dev ]\nMax_Age_Days = 3\n', FILE);
    expect(section?.name).toBe('profile Dev');
    expect(section?.entries[0]?.key).toBe('max_age_days');
  });

  test('an empty value is kept as empty for the validator to judge', () => {
    expect(parseIni('[keyup]\nlog =   ; nothing\n', FILE)[0]?.entries[0]?.value).toBe('');
  });

  test.each([
    ['a key outside any section', 'schedule = 0 7 * * *\n', 1, 'schedule is outside any section; put it under [keyup] or under a [profile NAME] section'],
    ['a repeated section', '[keyup]\nlog = file\n[keyup]\n', 3, '[keyup] already appears on line 1; merge the two sections into one'],
    ['a repeated profile, spaced differently', '[profile a]\n[profile   a]\n', 2, '[profile a] already appears on line 1; merge the two sections into one'],
    ['a repeated key, in another case', '[keyup]\nlog = file\n; x\nLOG = stdout\n', 4, 'log is already set on line 2 in [keyup]; keep only one of them'],
    ['a line without =', '[keyup]\nschedule: 0 7 * * *\n', 2, "expected 'key = value', a [section] or a comment, not 'schedule: 0 7 * * *'"],
    ['a line with no key', '[keyup]\n= 3\n', 2, "expected 'key = value', a [section] or a comment, not '= 3'"],
    ['an unclosed header', '[keyup\n', 1, "a section header must look like [keyup] or [profile NAME], not '[keyup'"],
    ['text after a header', '[keyup] log = file\n', 1, "a section header must look like [keyup] or [profile NAME], not '[keyup] log = file'"],
  ])('%s is a ConfigError naming file and line', (_, text, line, problem) => {
    const error = errorOf(text);
    expect(error.message).toBe(`${FILE}, line ${line}: ${problem}.`);
    expect(error.line).toBe(line);
    expect(error.exitCode).toBe(2);
  });

  test('a long bad line is quoted shortened', () => {
    expect(errorOf(`[keyup]\n${'x'.repeat(100)}\n`).message).toContain(`'${'x'.repeat(60)}…'`);
  });
});
