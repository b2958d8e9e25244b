import { FileFormatError, KeyupError } from '../errors.js';
import { detach } from './lines.js';
import { parseIni } from './parse.js';
import type { IniDocument, IniEntry, IniSection } from './parse.js';

/** An IAM access key: what replaces the old one in the credentials file. */
export interface AccessKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface KeyEdit {
  /** The whole new text: the old one with only the two values of each changed profile replaced. */
  readonly text: string;
  /** The sections (profiles) whose key changed, in file order. */
  readonly changed: readonly string[];
}

const ACCESS_KEY_ID = 'aws_access_key_id';
const SECRET_ACCESS_KEY = 'aws_secret_access_key';
const TOKEN_KEYS = ['aws_session_token', 'aws_security_token'];
/** IAM key ids are upper-case letters and digits (AKIA…). */
const KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;
/** Printable ASCII without spaces: nothing that could end the line or be stripped by a reader. */
const SECRET_PATTERN = /^[!-~]+$/;

/**
 * Replaces the `aws_access_key_id` and `aws_secret_access_key` values of every section whose key id
 * is `oldKeyId` and that holds no session token, and nothing else: every other byte of the text —
 * comments, spacing, key case, line endings, a byte-order mark, a missing final newline — stays.
 * Sections are matched on the key alone, whatever else they set (a role profile that uses its own
 * key as source holds the same IAM key, which is about to be retired).
 *
 * @throws KeyupError when a key id or the new secret is malformed (nothing is changed; the message
 * does not quote them), and FileFormatError when a secret to replace goes on over indented lines.
 */
export function replaceAccessKey(document: IniDocument, oldKeyId: string, next: AccessKey): KeyEdit {
  assertAccessKey(oldKeyId, next);
  const edits = new Map<number, Edit>();
  const changed: string[] = [];
  for (const { name, entries } of document.sections) {
    const id = entries.get(ACCESS_KEY_ID);
    const secret = entries.get(SECRET_ACCESS_KEY);
    if (id?.value !== oldKeyId || secret === undefined || !holdsLongTermKey(entries)) continue;
    if (secret.continued) {
      throw new FileFormatError(document.file, secret.line, `the ${secret.key} of [${name}] goes on over the indented lines below it, so keyup cannot replace it`, {
        hint: 'Put the secret on one line and try again.',
      });
    }
    // A key inherited from [DEFAULT] is one span shared by many sections: the map keeps it once.
    edits.set(id.valueStart, { end: id.valueEnd, value: next.accessKeyId, key: ACCESS_KEY_ID });
    edits.set(secret.valueStart, { end: secret.valueEnd, value: next.secretAccessKey, key: SECRET_ACCESS_KEY });
    changed.push(name);
  }
  if (changed.length === 0) return { text: document.text, changed };
  const text = spliceText(document.text, edits);
  assertEdited(document, text, edits);
  return { text, changed };
}

/** One value to replace: its span in the old text, the new value, and the key it belongs to. */
interface Edit {
  readonly end: number;
  readonly value: string;
  readonly key: string;
}

/** A section with a key id and its secret and no session token: one replaceAccessKey would change. */
function holdsLongTermKey(entries: ReadonlyMap<string, IniEntry>): boolean {
  return entries.has(ACCESS_KEY_ID) && entries.has(SECRET_ACCESS_KEY) && !TOKEN_KEYS.some((key) => entries.has(key));
}

/**
 * The sections that hold each long-term key id, in file order: the places a rotation of that key
 * must change. Key ids are copied out of the text, so the map does not keep the file text alive.
 */
export function findKeyHolders(document: IniDocument): Map<string, string[]> {
  const holders = new Map<string, string[]>();
  for (const { name, entries } of document.sections) {
    const id = entries.get(ACCESS_KEY_ID)?.value;
    if (id === undefined || !holdsLongTermKey(entries)) continue;
    const key = detach(id);
    holders.set(key, [...(holders.get(key) ?? []), detach(name)]);
  }
  return holders;
}

function assertAccessKey(oldKeyId: string, next: AccessKey): void {
  if (!KEY_ID_PATTERN.test(oldKeyId) || !KEY_ID_PATTERN.test(next.accessKeyId)) {
    throw new KeyupError('An access key id given to keyup is not a valid IAM key id, so the credentials file was left unchanged.', {
      hint: 'This is a bug in keyup; please report it.',
    });
  }
  if (!SECRET_PATTERN.test(next.secretAccessKey)) {
    throw new KeyupError('The new secret access key is not in the form IAM gives, so the credentials file was left unchanged.', {
      hint: 'This is a bug in keyup; please report it.',
    });
  }
}

function spliceText(text: string, edits: ReadonlyMap<number, Edit>): string {
  const parts: string[] = [];
  let offset = 0;
  for (const [start, { end, value }] of [...edits].sort(([a], [b]) => a - b)) {
    parts.push(text.slice(offset, start), value);
    offset = end;
  }
  parts.push(text.slice(offset));
  return parts.join('');
}

/**
 * Reads the new text back where it changed: a rewrite that would not read as intended is never
 * written. Only the changed lines need it. Each replaced value held no line break, and no new
 * value holds one (nor any space: assertAccessKey), so every other line is the same text at the
 * same place in the same line structure, and reads as it did; each changed line, read as a line
 * of the file is read, must set its key to the new value. (Reading the whole text back cost as
 * much as parsing it: 16 ms for 1,000 profiles, at every rewrite.)
 */
function assertEdited(before: IniDocument, text: string, edits: ReadonlyMap<number, Edit>): void {
  let shift = 0;
  for (const [start, { end, value, key }] of [...edits].sort(([a], [b]) => a - b)) {
    const replaced = before.text.slice(start, end);
    const at = start + shift;
    shift += value.length - replaced.length;
    const line = lineAround(text, at);
    const ok = !LINE_BREAK.test(replaced) && !LINE_BREAK.test(value) && text.startsWith(value, at) && readsAs(line, key, value, before.file);
    if (!ok) {
      throw new KeyupError(`keyup could not rewrite ${before.file} safely, so it left it unchanged.`, { hint: 'This is a bug in keyup; please report it.' });
    }
  }
}

/** Line breaks as the parser splits lines (universal newlines). */
const LINE_BREAK = /[\r\n]/;

/** The whole line of `text` that holds offset `at`, without its line break. */
function lineAround(text: string, at: number): string {
  const start = Math.max(text.lastIndexOf('\n', at - 1), text.lastIndexOf('\r', at - 1)) + 1;
  const breaks = [text.indexOf('\n', at), text.indexOf('\r', at)].filter((index) => index >= 0);
  return text.slice(start, breaks.length === 0 ? text.length : Math.min(...breaks));
}

/** Whether `line`, read as a setting of a section, sets `key` to exactly `value`. */
function readsAs(line: string, key: string, value: string, file: string): boolean {
  let sections: readonly IniSection[];
  try {
    sections = parseIni(`[s]\n${line}`, file).sections;
  } catch {
    return false;
  }
  const [section] = sections;
  return sections.length === 1 && section?.name === 's' && section.entries.size === 1 && section.entries.get(key)?.value === value;
}
