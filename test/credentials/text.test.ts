import { describe, expect, it } from 'vitest';
import { decodeUtf8 } from '../../src/credentials/decode.js';
import { countLeadingSpace, splitLines, stripSpace } from '../../src/credentials/lines.js';
import { splitShellWords } from '../../src/credentials/shell-words.js';
import { FileFormatError } from '../../src/errors.js';

describe('splitLines', () => {
  it('breaks at CRLF, CR and LF, with no extra line after a final break', () => {
    const text = 'a\r\nb\rc\nd';
    expect(splitLines(text).map((l) => [l.number, text.slice(l.start, l.end)])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(splitLines('a\n')).toHaveLength(1);
    expect(splitLines('')).toEqual([]);
  });
});

describe("Python's whitespace", () => {
  it('includes U+001C–U+001F and U+0085 but not the byte-order mark (unlike String.trim)', () => {
    expect(stripSpace('\x1c\x85 a \u3000')).toBe('a');
    expect(stripSpace('\ufeffa')).toBe('\ufeffa');
    expect(countLeadingSpace('\t\f x')).toBe(3);
  });
});

// Expected values are what Python's shlex.split returns for the same input.
describe('splitShellWords', () => {
  it.each([
    ['profile dev', ['profile', 'dev']],
    ['profile "my profile"', ['profile', 'my profile']],
    ["profile 'x y'z", ['profile', 'x yz']],
    ['profile a\\ b', ['profile', 'a b']],
    ['profile "a\\"b\\\\c\\d"', ['profile', 'a"b\\c\\d']],
    ['profile ""', ['profile', '']],
    ['  profile   dev  ', ['profile', 'dev']],
    ['profile a b', ['profile', 'a', 'b']],
  ])('%s', (text, words) => {
    expect(splitShellWords(text)).toEqual(words);
  });

  it('gives up where shlex raises', () => {
    expect(splitShellWords('profile "open')).toBeUndefined();
    expect(splitShellWords('profile end\\')).toBeUndefined();
  });
});

describe('decodeUtf8', () => {
  it('keeps a byte-order mark so that encoding gives the same bytes back', () => {
    const bytes = Buffer.from('\ufeff[p]\r\na = ü\r\n', 'utf8');
    const text = decodeUtf8(bytes, 'f');
    expect(text.startsWith('\ufeff')).toBe(true);
    expect(Buffer.from(text, 'utf8').equals(bytes)).toBe(true);
  });

  it('names the line of the first byte that is not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('[p]\r\na = 1\nb = é', 'utf8'), Buffer.from([0xff, 0x0a])]);
    try {
      decodeUtf8(bytes, '/x/credentials');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FileFormatError);
      expect((error as FileFormatError).line).toBe(3);
      expect((error as FileFormatError).message).toBe('/x/credentials, line 3: this line is not valid UTF-8 text.');
    }
  });

  it('names the last line when the file ends inside a character', () => {
    const bytes = Buffer.concat([Buffer.from('[p]\na = ', 'utf8'), Buffer.from([0xe2, 0x82])]);
    expect(() => decodeUtf8(bytes, 'f')).toThrow(/line 2: /);
  });
});
