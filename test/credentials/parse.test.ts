import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../../src/errors.js';
import { parseIni } from '../../src/credentials/parse.js';
import type { IniDocument } from '../../src/credentials/parse.js';

const FILE = '/home/u/.aws/credentials';

/** section → key → value, the shape botocore's raw_config_parse returns. */
function readValues(document: IniDocument): Record<string, Record<string, string>> {
  return Object.fromEntries(document.sections.map((s) => [s.name, Object.fromEntries([...s.entries].map(([key, entry]) => [key, entry.value]))]));
}

function parseError(text: string): FileFormatError {
  try {
    parseIni(text, FILE);
  } catch (error) {
    if (error instanceof FileFormatError) return error;
    throw error;
  }
  throw new Error('expected a FileFormatError');
}

describe('parseIni', () => {
  it('reads profile names with dots, spaces, dashes and unicode', () => {
    const text = '[default]\na=1\n[my.dotted.profile]\na=2\n[with space]\na=3\n[dash-ed_under]\na=4\n[ünï 日本]\na=5\n';
    expect(readValues(parseIni(text, FILE))).toEqual({
      default: { a: '1' },
      'my.dotted.profile': { a: '2' },
      'with space': { a: '3' },
      'dash-ed_under': { a: '4' },
      'ünï 日本': { a: '5' },
    });
  });

  it('keeps spaces inside the brackets in the name, as botocore does ([ x ] is profile " x ")', () => {
    expect(parseIni('[ x ]\na=1\n', FILE).sections[0]?.name).toBe(' x ');
  });

  it('ignores text after the last ] of a header and keeps inner brackets', () => {
    expect(parseIni('[p] ; comment\na=1\n[a]]\nb=2\n', FILE).sections.map((s) => s.name)).toEqual(['p', 'a]']);
  });

  it('reads = or : with or without spaces, and keys in any case', () => {
    const text = '[p]\naws_access_key_id=A1\nAWS_Secret_Access_Key   =   s1\nregion: eu-west-1\noutput :json\n';
    expect(readValues(parseIni(text, FILE))).toEqual({
      p: { aws_access_key_id: 'A1', aws_secret_access_key: 's1', region: 'eu-west-1', output: 'json' },
    });
  });

  it('splits at the first = or :, so a value may hold both', () => {
    expect(readValues(parseIni('[p]\nurl = https://x:1/?a=b\n', FILE))).toEqual({ p: { url: 'https://x:1/?a=b' } });
  });

  it('keeps the key as written and where its value is', () => {
    const text = '[p]\n  AWS_ACCESS_KEY_ID =  AKIAXXXXXXXXXXXXXXXX  \n';
    const entry = parseIni(text, FILE).sections[0]?.entries.get('aws_access_key_id');
    expect(entry?.key).toBe('AWS_ACCESS_KEY_ID');
    expect(entry?.line).toBe(2);
    expect(text.slice(entry?.valueStart, entry?.valueEnd)).toBe('AKIAXXXXXXXXXXXXXXXX');
  });

  it('skips full-line # and ; comments, indented or not', () => {
    const text = '# top\n; top\n[p]\n  # indented\n\t; tab\na = 1\n';
    expect(readValues(parseIni(text, FILE))).toEqual({ p: { a: '1' } });
  });

  // botocore builds RawConfigParser without inline_comment_prefixes: the AWS CLI prints
  // "AKIA1 ; inline" for `aws configure get aws_access_key_id` on such a line.
  it('keeps inline ; and # text as part of the value, as the AWS CLI does', () => {
    const text = '[p]\naws_access_key_id = AKIA1 ; work key\naws_secret_access_key = s#1 # note\n';
    expect(readValues(parseIni(text, FILE))).toEqual({ p: { aws_access_key_id: 'AKIA1 ; work key', aws_secret_access_key: 's#1 # note' } });
  });

  it('reads CRLF, LF and lone CR line endings alike', () => {
    const text = '[a]\r\nx = 1\r\n[b]\ry = 2\r[c]\nz = 3';
    expect(readValues(parseIni(text, FILE))).toEqual({ a: { x: '1' }, b: { y: '2' }, c: { z: '3' } });
  });

  it('reads a file without a final newline', () => {
    expect(readValues(parseIni('[p]\na = 1', FILE))).toEqual({ p: { a: '1' } });
  });

  it('accepts a UTF-8 byte-order mark and says it was there', () => {
    const document = parseIni('\ufeff[default]\na = 1\n', FILE);
    expect(document.bom).toBe(true);
    expect(readValues(document)).toEqual({ default: { a: '1' } });
    expect(parseIni('[default]\na = 1\n', FILE).bom).toBe(false);
  });

  it('strips the whitespace Python strips (form feed, no-break space), not only ASCII spaces', () => {
    const text = '[p]\na = 1\f\nb =\u00a02\u00a0\n';
    expect(readValues(parseIni(text, FILE))).toEqual({ p: { a: '1', b: '2' } });
  });

  it('reads an empty file, or one with only comments, as no sections', () => {
    expect(parseIni('', FILE).sections).toEqual([]);
    expect(parseIni('# nothing\n\n', FILE).sections).toEqual([]);
  });

  describe('continuation lines', () => {
    it('joins lines indented deeper than the key to its value', () => {
      const entry = parseIni('[p]\nnote = first\n  second\n\tthird\nnext = 1\n', FILE).sections[0]?.entries.get('note');
      expect(entry?.value).toBe('first\nsecond\nthird');
      expect(entry?.continued).toBe(true);
    });

    it('goes on across blank lines and skips comment lines, as configparser does', () => {
      const document = parseIni('[p]\na = 1\n\n  # c\n  more\n', FILE);
      expect(document.sections[0]?.entries.get('a')?.value).toBe('1\n\nmore');
    });

    it('drops trailing blank lines, so a value followed by blanks is not continued', () => {
      const entry = parseIni('[p]\na = 1\n\n\n[q]\n', FILE).sections[0]?.entries.get('a');
      expect(entry?.value).toBe('1');
      expect(entry?.continued).toBe(false);
    });

    it('treats an indented [header] after a setting as part of its value', () => {
      expect(readValues(parseIni('[p]\na = 1\n  [q]\n', FILE))).toEqual({ p: { a: '1\n[q]' } });
    });

    it('reads a nested block (s3 = then indented settings) as botocore does', () => {
      const text = '[profile p]\ns3 =\n    max_concurrent_requests = 5\n    addressing_style = path\nregion = eu-west-1\n';
      expect(readValues(parseIni(text, FILE))).toEqual({
        'profile p': { s3: '\nmax_concurrent_requests = 5\naddressing_style = path', region: 'eu-west-1' },
      });
    });

    it('reads indented settings right under a header as settings, not continuations', () => {
      expect(readValues(parseIni('[p]\n  a = 1\n  b = 2\n', FILE))).toEqual({ p: { a: '1', b: '2' } });
    });

    it('rejects a nested block line without = (botocore fails on the whole file)', () => {
      const error = parseError('[p]\ns3 =\n  max = 5\n  oops\n');
      expect(error.line).toBe(4);
      expect(error.message).toContain('the indented lines under s3 must each be a name = value setting');
    });
  });

  describe('[DEFAULT]', () => {
    it('is no section of its own, and every section inherits its settings', () => {
      const document = parseIni('[a]\nx = 1\n[DEFAULT]\nx = 0\ny = 2\n[b]\nz = 3\n', FILE);
      expect(readValues(document)).toEqual({ a: { x: '1', y: '2' }, b: { x: '0', y: '2', z: '3' } });
      expect(document.sections[1]?.entries.get('y')?.section).toBe('DEFAULT');
    });

    it('is case-sensitive: [default] is an ordinary section', () => {
      expect(readValues(parseIni('[default]\nx = 1\n[DEFAULT]\ny = 2\n', FILE))).toEqual({ default: { x: '1', y: '2' } });
    });
  });

  describe('errors name the file and line and never quote the line', () => {
    it.each([
      ['a key outside any section', 'aws_access_key_id = AKIASECRETLOOKING\n[p]\n', 1, 'comes before the first [section] header'],
      ['a line that is nothing', '[p]\na = 1\nwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n', 3, 'is neither a [section] header'],
      ['a setting without a name', '[p]\n = hunter2\n', 2, 'has no name before its "="'],
      ['a duplicated profile', '[p]\na = 1\n\n[p]\nb = 2\n', 4, 'the section [p] appears twice (first on line 1)'],
      ['a duplicated key, in another case', '[p]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID = B\n', 3, 'the key AWS_ACCESS_KEY_ID appears twice in [p] (first on line 2)'],
      ['an empty header', '[]\na = 1\n', 1, 'comes before the first [section] header'],
    ])('%s', (_case, text, line, problem) => {
      const error = parseError(text);
      expect(error.file).toBe(FILE);
      expect(error.line).toBe(line);
      expect(error.message.startsWith(`${FILE}, line ${line}: `)).toBe(true);
      expect(error.message).toContain(problem);
      expect(error.message).not.toMatch(/wJalr|SECRETLOOKING|hunter2/);
      expect(error.hint).toMatch(/fix that line/);
    });

    it('counts lines in CRLF files and past a byte-order mark like an editor', () => {
      expect(parseError('\ufeff[p]\r\na = 1\r\n\r\nbroken\r\n').line).toBe(4);
    });
  });
});
