import { createServiceError } from './service-error.js';

/** What a service template is filled with. */
export interface ServiceValues {
  /** The absolute path of node. */
  readonly node: string;
  /** The absolute path of keyupd.js. */
  readonly keyupd: string;
  /** Variables keyupd gets, in order: see getPinnedEnvironment. */
  readonly environment: readonly (readonly [name: string, value: string])[];
}

/** A launchd agent also names the file its output goes to. */
export interface LaunchdValues extends ServiceValues {
  readonly log: string;
}

/** `{{name}}` inside a line: replaced by one escaped value. */
const WORD_PLACEHOLDER = /\{\{(\w+)\}\}/g;
/**
 * A line holding only a placeholder in a comment (`# {{name}}`, `<!-- {{name}} -->`): replaced by
 * as many lines as there are, none included. A comment, so that a template filled in by hand
 * stays valid where the person leaves it be.
 */
const LINE_PLACEHOLDER = /^([ \t]*)(?:#[ \t]*|<!--[ \t]*)\{\{(\w+)\}\}(?:[ \t]*-->)?[ \t]*$/;
/** Characters that stand for themselves in a systemd unit's command line, unquoted. */
const SYSTEMD_PLAIN = /^[\w@%+=:,./$-]+$/;

/**
 * Fills a shipped template. A placeholder the template has and `words` or `lines` has not is a
 * bug in keyup's own files, as is the reverse; neither is left for a service manager to find.
 */
export function fillTemplate(template: string, words: Readonly<Record<string, string>>, lines: Readonly<Record<string, readonly string[]>>): string {
  const unused = new Set([...Object.keys(words), ...Object.keys(lines)]);
  const take = <T>(table: Readonly<Record<string, T>>, name: string): T => {
    const value = Object.hasOwn(table, name) ? table[name] : undefined;
    if (value === undefined) throw new Error(`The service template has a placeholder {{${name}}} that keyup does not fill.`);
    unused.delete(name);
    return value;
  };
  const filled = template.split('\n').flatMap((line) => {
    const block = LINE_PLACEHOLDER.exec(line);
    if (block !== null) return take(lines, block[2] ?? '').map((text) => `${block[1] ?? ''}${text}`);
    return [line.replace(WORD_PLACEHOLDER, (_, name: string) => take(words, name))];
  });
  if (unused.size > 0) throw new Error(`The service template lacks the placeholders ${[...unused].map((name) => `{{${name}}}`).join(', ')}.`);
  return filled.join('\n');
}

/** Line breaks would let a path add directives of its own; no unit or plist can hold these. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkPrintable(value: string, where: string): void {
  if (!hasControlCharacter(value)) return;
  throw createServiceError('service-failed', `The path ${JSON.stringify(value)} holds a line break or another control character, which ${where} cannot hold.`, 'Install node and keyup under paths without one.');
}

/** Where a word goes in a unit: each has its own rules. */
export type SystemdWordKind = 'executable' | 'argument' | 'assignment';

/** Characters systemd refuses in the name of the program it runs ("special characters"). */
const EXECUTABLE_REFUSED = /["'\\]/;

/**
 * One word of a unit, such that systemd reads back `word`. `%` starts a specifier anywhere, so it
 * is doubled; so is `$` in an argument, where it starts a variable, but not in the program's own
 * name or in Environment=, where it stands for itself. A word with anything but plain characters
 * is double-quoted, with `\` and `"` escaped; the program's name cannot hold either, nor `'`.
 */
export function quoteSystemdWord(word: string, kind: SystemdWordKind): string {
  checkPrintable(word, 'a systemd unit');
  if (kind === 'executable' && EXECUTABLE_REFUSED.test(word)) {
    throw createServiceError('service-failed', `systemd cannot run a program whose path holds a quote or a backslash, as ${JSON.stringify(word)} does.`, 'Install node under a path without one.');
  }
  let text = word.replaceAll('%', '%%');
  if (kind === 'argument') text = text.replaceAll('$', '$$$$');
  return SYSTEMD_PLAIN.test(text) ? text : `"${text.replace(/[\\"]/g, '\\$&')}"`;
}

/** Text for an XML element: `&`, `<` and `>` escaped. */
export function escapeXml(text: string): string {
  checkPrintable(text, 'a property list');
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** systemd/keyupd.service filled in: ExecStart with both paths, one Environment= line per variable. */
export function renderSystemdUnit(template: string, { node, keyupd, environment }: ServiceValues): string {
  const words = { node: quoteSystemdWord(node, 'executable'), keyupd: quoteSystemdWord(keyupd, 'argument') };
  const lines = { environment: environment.map(([name, value]) => `Environment=${quoteSystemdWord(`${name}=${value}`, 'assignment')}`) };
  return fillTemplate(template, words, lines);
}

/** launchd/dev.keyup.keyupd.plist filled in: ProgramArguments, the log file, EnvironmentVariables. */
export function renderLaunchdPlist(template: string, { node, keyupd, environment, log }: LaunchdValues): string {
  const words = { node: escapeXml(node), keyupd: escapeXml(keyupd), log: escapeXml(log) };
  const lines = { environment: environment.flatMap(([name, value]) => [`<key>${escapeXml(name)}</key>`, `<string>${escapeXml(value)}</string>`]) };
  return fillTemplate(template, words, lines);
}
