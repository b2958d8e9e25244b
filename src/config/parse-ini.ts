import { ConfigError } from '../errors.js';

/** One `key = value` line; `key` is lower-cased, `value` trimmed and without its inline comment. */
export interface IniEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based. */
  readonly line: number;
}

export interface IniSection {
  /** The text between the brackets, trimmed, inner runs of whitespace made one space. */
  readonly name: string;
  /** 1-based line of the `[header]`. */
  readonly line: number;
  readonly entries: readonly IniEntry[];
}

/** The longest piece of a bad line quoted back in an error; the rest is elided. */
const QUOTE_LIMIT = 60;

function quote(text: string): string {
  return `'${text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text}'`;
}

function isComment(trimmed: string): boolean {
  return trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#');
}

/**
 * Cuts an inline comment: `;` or `#` after whitespace, as Python's configparser (and so the
 * AWS CLI) does. Without whitespace they stay part of the value, so croner's `1#2`
 * ("the second Monday") survives.
 */
function stripInlineComment(value: string): string {
  const match = /\s[;#]/.exec(value);
  return (match === null ? value : value.slice(0, match.index)).trim();
}

/**
 * Splits INI text into sections in file order, like `~/.aws/config`: keys are case-insensitive
 * (lower-cased, as botocore's configparser does), section names are kept as written. Pure;
 * throws a `ConfigError` naming `file` and the line for a line that is neither a comment, a
 * `[section]` nor `key = value`, a key outside any section, a repeated section or a repeated key
 * (but those in `repeatable`, which keep every line, in order).
 */
export function parseIni(text: string, file: string, repeatable: ReadonlySet<string> = new Set()): IniSection[] {
  const sections: { name: string; line: number; entries: IniEntry[] }[] = [];
  const sectionLines = new Map<string, number>();
  let current: { name: string; line: number; entries: IniEntry[]; keyLines: Map<string, number> } | undefined;

  // A BOM from a Windows editor is not part of the first line; CRLF endings are allowed.
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (isComment(trimmed)) return;

    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      const rest = close < 0 ? '' : trimmed.slice(close + 1).trim();
      if (close < 0 || !isComment(rest)) {
        throw new ConfigError(file, line, `a section header must look like [keyup] or [profile NAME], not ${quote(trimmed)}`);
      }
      const name = trimmed.slice(1, close).trim().split(/\s+/).join(' ');
      const earlier = sectionLines.get(name);
      if (earlier !== undefined) {
        throw new ConfigError(file, line, `[${name}] already appears on line ${earlier}; merge the two sections into one`);
      }
      sectionLines.set(name, line);
      current = { name, line, entries: [], keyLines: new Map() };
      sections.push(current);
      return;
    }

    const equals = trimmed.indexOf('=');
    const key = equals < 0 ? '' : trimmed.slice(0, equals).trim().toLowerCase();
    if (key === '') {
      throw new ConfigError(file, line, `expected 'key = value', a [section] or a comment, not ${quote(trimmed)}`);
    }
    if (current === undefined) {
      throw new ConfigError(file, line, `${key} is outside any section; put it under [keyup] or under a [profile NAME] section`);
    }
    const earlier = current.keyLines.get(key);
    if (earlier !== undefined && !repeatable.has(key)) {
      throw new ConfigError(file, line, `${key} is already set on line ${earlier} in [${current.name}]; keep only one of them`);
    }
    current.keyLines.set(key, line);
    current.entries.push({ key, value: stripInlineComment(trimmed.slice(equals + 1)), line });
  });

  return sections.map(({ name, line, entries }) => ({ name, line, entries }));
}
