/**
 * Text as botocore's configparser sees it. Python reads the file with universal newlines
 * (a line ends at `\r\n`, `\r` or `\n`) and strips lines with `str.strip()`, whose whitespace
 * set differs from JavaScript's `trim()`: it has U+001C–U+001F and U+0085 but not U+FEFF.
 */

export interface TextLine {
  /** 1-based, as an editor counts. */
  readonly number: number;
  /** Offset of the line's first character in the text. */
  readonly start: number;
  /** Offset just past its last character, before the line break. */
  readonly end: number;
}

// As code points, since a regular expression may not spell out control characters (no-control-regex).
const PYTHON_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
/** Where Python's `str.splitlines` breaks a line besides `\n` and `\r`. */
const PYTHON_LINE_BREAK = new Set([0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029]);

/** Splits `text` from offset `from` into lines; a final line break starts no extra line. */
export function splitLines(text: string, from = 0): TextLine[] {
  const lines: TextLine[] = [];
  const lineBreak = /\r\n|\r|\n/g;
  lineBreak.lastIndex = from;
  let start = from;
  for (let match = lineBreak.exec(text); match !== null; match = lineBreak.exec(text)) {
    lines.push({ number: lines.length + 1, start, end: match.index });
    start = match.index + match[0].length;
  }
  if (start < text.length) lines.push({ number: lines.length + 1, start, end: text.length });
  return lines;
}

/** Whether `char` is whitespace to Python's `str.isspace()`. */
export function isPythonSpace(char: string): boolean {
  return char.length === 1 && PYTHON_SPACE.has(char.charCodeAt(0));
}

/** Python's `str.splitlines()` (without its special case for `\r\n`, which no caller needs). */
export function splitPythonLines(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (PYTHON_LINE_BREAK.has(text.charCodeAt(i))) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** How many whitespace characters `text` starts with. */
export function countLeadingSpace(text: string): number {
  let count = 0;
  while (count < text.length && isPythonSpace(text.charAt(count))) count += 1;
  return count;
}

/** How many whitespace characters `text` ends with. */
export function countTrailingSpace(text: string): number {
  let count = 0;
  while (count < text.length && isPythonSpace(text.charAt(text.length - 1 - count))) count += 1;
  return count;
}

/** Python's `str.strip()`. */
export function stripSpace(text: string): string {
  const lead = countLeadingSpace(text);
  return lead === text.length ? '' : text.slice(lead, text.length - countTrailingSpace(text));
}

/** A copy that shares no memory with the file text it was cut from (V8 keeps a slice's parent alive). */
export function detach(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
