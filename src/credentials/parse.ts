import { FileFormatError } from '../errors.js';
import { BOM } from './decode.js';
import { countLeadingSpace, countTrailingSpace, splitLines, splitPythonLines, stripSpace } from './lines.js';

/** One `key = value` setting, as botocore reads it, and where its value sits in the text. */
export interface IniEntry {
  /** The key as written; sections are looked up by its lower-cased form, as botocore does. */
  readonly key: string;
  /** The value as botocore sees it: continuation lines joined with `\n`, trailing space removed. */
  readonly value: string;
  /** The section it is written in: its own, or `DEFAULT`, whose settings every section inherits. */
  readonly section: string;
  readonly line: number;
  /** Offsets of the value on the key's own line: the bytes an edit replaces. */
  readonly valueStart: number;
  readonly valueEnd: number;
  /** The value goes on over indented lines below (so it is not the text at valueStart…valueEnd). */
  readonly continued: boolean;
}

export interface IniSection {
  /** The text between the brackets, exactly (botocore does not trim it). */
  readonly name: string;
  readonly line: number;
  /** Its settings by lower-cased key, including those it inherits from `[DEFAULT]`. */
  readonly entries: ReadonlyMap<string, IniEntry>;
}

/** A parsed INI file that still holds its text, so that edits can keep every other byte. */
export interface IniDocument {
  readonly file: string;
  readonly text: string;
  /** The text starts with a byte-order mark (botocore cannot read such a file; the AWS SDKs can). */
  readonly bom: boolean;
  /** In file order, without `[DEFAULT]`, which botocore does not count as a section. */
  readonly sections: readonly IniSection[];
}

const DEFAULT_SECTION = 'DEFAULT';
const HINT = 'keyup leaves a file it cannot read completely as it is; fix that line and try again.';

interface Piece {
  readonly text: string;
  readonly line: number;
}

interface DraftEntry extends Omit<IniEntry, 'value' | 'continued'> {
  readonly pieces: Piece[];
}

interface DraftSection {
  readonly name: string;
  readonly line: number;
  readonly own: Map<string, DraftEntry>;
}

/**
 * Parses an AWS credentials or config file the way botocore's `RawConfigParser` does: `=` or `:`
 * between key and value; keys in any case; `#` and `;` start comments on their own line only (an
 * inline `; text` is part of the value); lines indented deeper than a setting continue its value,
 * even across blank lines; `[DEFAULT]` is inherited by every section. Unlike botocore, it accepts a
 * leading byte-order mark.
 *
 * @throws FileFormatError naming the file and line of anything botocore would reject: a line that
 * is none of the above, a setting before the first section, a section or a key given twice, an
 * indented block under an empty value whose lines are not `name = value`. The message never
 * quotes the line, which might hold a secret.
 */
export function parseIni(text: string, file: string): IniDocument {
  const bom = text.startsWith(BOM);
  const fail = (line: number, problem: string): never => {
    throw new FileFormatError(file, line, problem, { hint: HINT });
  };
  const sections = new Map<string, DraftSection>();
  const defaults = new Map<string, DraftEntry>();
  let current: { name: string; own: Map<string, DraftEntry> } | undefined;
  let entry: DraftEntry | undefined;
  let indentLevel = 0;

  for (const line of splitLines(text, bom ? BOM.length : 0)) {
    const raw = text.slice(line.start, line.end);
    const stripped = stripSpace(raw);
    if (stripped === '') {
      entry?.pieces.push({ text: '', line: line.number });
      continue;
    }
    if (stripped.startsWith('#') || stripped.startsWith(';')) continue;
    const indent = countLeadingSpace(raw);
    if (entry !== undefined && indent > indentLevel) {
      entry.pieces.push({ text: stripped, line: line.number });
      continue;
    }
    indentLevel = indent;
    const close = stripped.lastIndexOf(']');
    if (stripped.startsWith('[') && close >= 2) {
      // Like botocore's pattern `\[(.+)\]`: up to the last `]`, ignoring what follows it.
      const name = stripped.slice(1, close);
      entry = undefined;
      if (name === DEFAULT_SECTION) {
        current = { name, own: defaults };
        continue;
      }
      const seen = sections.get(name);
      if (seen !== undefined) fail(line.number, `the section [${name}] appears twice (first on line ${seen.line})`);
      const section: DraftSection = { name, line: line.number, own: new Map() };
      sections.set(name, section);
      current = section;
      continue;
    }
    if (current === undefined) return fail(line.number, 'this line comes before the first [section] header');
    const delimiter = stripped.search(/[=:]/);
    if (delimiter < 0) {
      return fail(line.number, 'this line is neither a [section] header, a key = value setting, a comment nor an indented continuation');
    }
    const key = stripped.slice(0, delimiter - countTrailingSpace(stripped.slice(0, delimiter)));
    if (key === '') return fail(line.number, `this setting has no name before its "${stripped.charAt(delimiter)}"`);
    const seen = current.own.get(key.toLowerCase());
    if (seen !== undefined) fail(line.number, `the key ${key} appears twice in [${current.name}] (first on line ${seen.line})`);
    const rest = stripped.slice(delimiter + 1);
    const restIndent = countLeadingSpace(rest);
    const strippedStart = line.start + indent;
    entry = {
      key,
      section: current.name,
      line: line.number,
      valueStart: strippedStart + delimiter + 1 + restIndent,
      valueEnd: strippedStart + stripped.length,
      pieces: [{ text: rest.slice(restIndent), line: line.number }],
    };
    current.own.set(key.toLowerCase(), entry);
  }

  const finished = new Map<DraftEntry, IniEntry>();
  const finish = (draft: DraftEntry): IniEntry => {
    const done = finished.get(draft) ?? finishEntry(draft, fail);
    finished.set(draft, done);
    return done;
  };
  return {
    file,
    text,
    bom,
    sections: [...sections.values()].map(({ name, line, own }) => ({
      name,
      line,
      // Like botocore, check [DEFAULT]'s values only through the sections that inherit them.
      entries: new Map([...new Map([...defaults, ...own])].map(([key, draft]) => [key, finish(draft)])),
    })),
  };
}

// Fields spelled out rather than spread: object rest and spread made this the parser's hot spot
// (issue 8: a file of 1,000 profiles took 16 ms to parse, most of it here).
function finishEntry(draft: DraftEntry, fail: (line: number, problem: string) => never): IniEntry {
  const { pieces } = draft;
  const value = joinPieces(pieces);
  if (value.startsWith('\n')) checkNestedBlock(draft.key, pieces, fail);
  return { key: draft.key, section: draft.section, line: draft.line, valueStart: draft.valueStart, valueEnd: draft.valueEnd, value, continued: value.includes('\n') };
}

/** configparser joins a value's lines with `\n`, then strips the end (dropping trailing blank lines). */
function joinPieces(pieces: readonly Piece[]): string {
  // One piece, nearly always: its text was stripped already.
  if (pieces.length === 1) return (pieces[0] as Piece).text;
  const joined = pieces.map((piece) => piece.text).join('\n');
  return joined.slice(0, joined.length - countTrailingSpace(joined));
}

/**
 * A value that starts on the next line (`s3 =` then indented `name = value` lines) is a nested
 * block to botocore, which fails on the whole file when one of its lines has no `=`.
 */
function checkNestedBlock(key: string, pieces: readonly Piece[], fail: (line: number, problem: string) => never): void {
  for (const piece of pieces.slice(1)) {
    if (splitPythonLines(piece.text).some((part) => stripSpace(part) !== '' && !part.includes('='))) {
      fail(piece.line, `the indented lines under ${key} must each be a name = value setting`);
    }
  }
}
