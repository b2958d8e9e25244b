import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replaceAccessKey } from '../../src/credentials/edit.js';
import { parseIni } from '../../src/credentials/parse.js';

/**
 * Random valid credentials files: the rewrite must differ from the original only in the two
 * values of the profiles that held the old key.
 */

const OLD = 'AKIAOLDKEYOLDKEY0001';
const NEW = { accessKeyId: 'AKIANEWKEYNEWKEY0002', secretAccessKey: 'NEW+SECRET/never/generated/below/0123456' };

const chars = (text: string): string[] => [...text];
const nameChar = fc.constantFrom(...chars('abzAZ09._-@+ =:;#éü日本🙂'));
const valueChar = fc.constantFrom(...chars('abzAZ09._-/ =:;#[]"\'éü日本'));
const secretChar = fc.constantFrom(...chars('abcxyzABCXYZ0189/+'));
const space = fc.constantFrom('', ' ', '  ', '\t', ' \t ');
const indent = fc.constantFrom('', '', ' ', '\t', '    ');

const otherKeyId = fc.string({ unit: fc.constantFrom(...chars('ABCDEFXYZ234567')), minLength: 16, maxLength: 16 }).map((s) => `AKIA${s}`);
const secret = fc.string({ unit: secretChar, minLength: 40, maxLength: 40 });
const value = fc.string({ unit: valueChar, maxLength: 20 }).map((s) => s.trim());
const comment = fc.tuple(indent, fc.constantFrom('#', ';'), fc.string({ unit: valueChar, maxLength: 20 })).map(([i, mark, text]) => `${i}${mark}${text}`);
const blank = fc.constantFrom('', ' ', '\t');

/** A key in random case, e.g. Aws_ACCESS_key_id: botocore lower-cases keys. */
const casedKey = (key: string) => fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((upper) => [...key].map((c, i) => (upper[i] === true ? c.toUpperCase() : c)).join(''));

const setting = (key: string, val: fc.Arbitrary<string>) =>
  fc.tuple(casedKey(key), space, fc.constantFrom('=', ':', '='), space, val, fc.constantFrom('', ' ', '\t')).map(
    ([k, before, delimiter, after, v, trailing]) => (sectionIndent: string) => `${sectionIndent}${k}${before}${delimiter}${after}${v}${v === '' ? '' : trailing}`,
  );

type LineMaker = (sectionIndent: string) => string;

/** Comments, blank lines and other settings (keys unique within a profile, as botocore requires). */
const extraLines: fc.Arbitrary<LineMaker[]> = fc
  .uniqueArray(
    fc.oneof(
      fc.tuple(fc.nat(), comment).map(([n, c]) => ({ tag: `comment ${n}`, make: () => c })),
      fc.tuple(fc.nat(), blank).map(([n, b]) => ({ tag: `blank ${n}`, make: () => b })),
      fc.constantFrom('region', 'output', 'x_custom').chain((key) => setting(key, value).map((make) => ({ tag: key, make }))),
      // A nested block, as real config files have: deeper-indented name = value lines.
      fc
        .tuple(setting('s3', fc.constant('')), fc.uniqueArray(fc.tuple(fc.constantFrom('a', 'max_concurrent_requests'), value), { minLength: 1, maxLength: 2, selector: ([k]) => k }))
        .map(([header, lines]) => ({
          tag: 's3',
          make: (sectionIndent: string) => [header(sectionIndent), ...lines.map(([k, v]) => `${sectionIndent}    ${k} = ${v}`)].join('\n'),
        })),
    ),
    { maxLength: 5, selector: (item) => item.tag },
  )
  .map((items) => items.map((item) => item.make));

type Kind = 'old' | 'other' | 'temporary-old';

const profile = fc.record({
  name: fc.string({ unit: nameChar, minLength: 1, maxLength: 10 }).filter((n) => n !== 'DEFAULT'),
  kind: fc.constantFrom<Kind>('old', 'old', 'other', 'temporary-old'),
  otherId: otherKeyId,
  secret,
  indentHeader: fc.boolean(),
  headerTrailer: fc.constantFrom('', '', ' ; note', '  # note'),
  extras: extraLines,
  idAt: fc.nat(),
  secretAt: fc.nat(),
  idLine: setting('aws_access_key_id', fc.constant('<ID>')),
  secretLine: setting('aws_secret_access_key', fc.constant('<SECRET>')),
});

interface ProfileFile {
  text: string;
  /** Old secrets of the profiles that must change, in the order their secret lines appear. */
  oldSecrets: string[];
  changed: string[];
}

const credentialsFile: fc.Arbitrary<ProfileFile> = fc
  .record({
    profiles: fc.uniqueArray(profile, { selector: (p) => p.name, minLength: 1, maxLength: 6 }),
    preamble: fc.array(fc.oneof(comment, blank), { maxLength: 3 }),
    bom: fc.boolean(),
    finalNewline: fc.boolean(),
    endings: fc.constantFrom('lf', 'crlf', 'mixed'),
    mixed: fc.infiniteStream(fc.constantFrom('\n', '\r\n', '\n', '\r')),
    // One indent for all settings: a header indented deeper than the setting before it would
    // continue that setting's value (as in botocore), which is not the file this test means.
    keyIndent: indent,
  })
  .map(({ profiles, preamble, bom, finalNewline, endings, mixed, keyIndent }) => {
    const lines = [...preamble];
    const oldSecrets: string[] = [];
    const changed: string[] = [];
    for (const p of profiles) {
      lines.push(`${p.indentHeader ? keyIndent : ''}[${p.name}]${p.headerTrailer}`);
      const body = [...p.extras];
      const id = p.kind === 'other' ? p.otherId : OLD;
      body.splice(p.idAt % (body.length + 1), 0, (i) => p.idLine(i).replace('<ID>', id));
      body.splice(p.secretAt % (body.length + 1), 0, (i) => p.secretLine(i).replace('<SECRET>', p.secret));
      if (p.kind === 'temporary-old') body.push((i) => `${i}aws_session_token = FwoGZXIvYXdzE${p.secret}`);
      lines.push(...body.map((make) => make(keyIndent)));
      if (p.kind === 'old') {
        oldSecrets.push(p.secret);
        changed.push(p.name);
      }
    }
    const flat = lines.join('\n').split('\n');
    const breaks = flat.map(() => (endings === 'lf' ? '\n' : endings === 'crlf' ? '\r\n' : mixed.next().value));
    const text = flat.map((line, i) => (i < flat.length - 1 || finalNewline ? line + breaks[i] : line)).join('');
    return { text: (bom ? '\ufeff' : '') + text, oldSecrets, changed };
  });

/** Lines with their terminators, so that a changed line ending would show. */
function splitKeepingBreaks(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

describe('replaceAccessKey on random valid credentials files', () => {
  it('changes nothing but the two values of the profiles that held the old key', () => {
    fc.assert(
      fc.property(credentialsFile, ({ text, oldSecrets, changed }) => {
        const before = parseIni(text, '/c');
        const result = replaceAccessKey(before, OLD, NEW);
        expect(result.changed).toEqual(changed);

        // Putting the old values back gives the original bytes exactly.
        const secrets = [...oldSecrets];
        const restored = result.text.replaceAll(NEW.accessKeyId, OLD).replace(new RegExp(NEW.secretAccessKey.replace(/[+/]/g, '\\$&'), 'g'), () => secrets.shift() ?? '');
        expect(secrets).toEqual([]);
        expect(Buffer.from(restored, 'utf8').equals(Buffer.from(text, 'utf8'))).toBe(true);

        // Only the key id and secret lines of changed profiles differ; everything else, line endings included, is identical.
        const targets = new Set(
          before.sections
            .filter((s) => changed.includes(s.name))
            .flatMap((s) => [s.entries.get('aws_access_key_id')?.line, s.entries.get('aws_secret_access_key')?.line]),
        );
        const oldLines = splitKeepingBreaks(text);
        const newLines = splitKeepingBreaks(result.text);
        expect(newLines).toHaveLength(oldLines.length);
        newLines.forEach((line, i) => {
          if (!targets.has(i + 1)) expect(line).toBe(oldLines[i]);
        });

        // The new file reads back with the new key where the old one was, and the same everywhere else.
        const after = parseIni(result.text, '/c');
        expect(after.sections.map((s) => s.name)).toEqual(before.sections.map((s) => s.name));
        after.sections.forEach((section, i) => {
          const old = before.sections[i];
          for (const [key, entry] of section.entries) {
            const expected = changed.includes(section.name) && key === 'aws_access_key_id' ? NEW.accessKeyId : changed.includes(section.name) && key === 'aws_secret_access_key' ? NEW.secretAccessKey : old?.entries.get(key)?.value;
            expect(entry.value).toBe(expected);
          }
        });
      }),
      { numRuns: 400 },
    );
  });
});
