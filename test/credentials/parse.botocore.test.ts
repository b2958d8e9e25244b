import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/credentials/parse.js';

/**
 * Differential test: random INI soup (headers, settings with `=`/`:`, inline `;`/`#`, comments,
 * indented continuations, nested blocks, blank lines, junk, duplicates, CR/LF/CRLF) parsed by
 * keyup and by botocore's own `raw_config_parse`, which the AWS CLI uses. Both must accept and
 * reject the same files and read the same values. Needs a python3 that can import botocore
 * (pip's awscli, or Debian's python3-botocore, which .ci/run installs). Skipped elsewhere
 * without one, but never in CI, where a skipped comparison would pass unnoticed.
 */

const canImportBotocore = (python: string) => spawnSync(python, ['-c', 'import botocore.configloader'], { timeout: 20_000 }).status === 0;
const PYTHON = ['python3', '/usr/bin/python3'].find(canImportBotocore);
const BOTOCORE_SCRIPT = String.raw`
import json, os, sys, tempfile
from botocore.configloader import raw_config_parse
results = []
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, 'credentials')
    for text in json.load(sys.stdin):
        with open(path, 'wb') as f:
            f.write(text.encode('utf-8'))
        try:
            raw_config_parse(path)  # raises where the CLI would
            results.append({'sections': raw_config_parse(path, parse_subsections=False)})
        except Exception as error:
            results.append({'error': type(error).__name__})
print(json.dumps(results))
`;

if (PYTHON === undefined && process.env.CI === 'true') {
  throw new Error('No python3 can import botocore: install python3-botocore (apt-get install python3-botocore).');
}

const pick = <T>(...values: T[]) => fc.constantFrom(...values);
const text = (alphabet: string, maxLength = 8) => fc.string({ unit: pick(...alphabet), maxLength });
// Python's whitespace is not JavaScript's: U+001C and U+0085 are spaces to it, U+FEFF is not.
const indent = pick('', '', '', ' ', '  ', '\t', '\f', '\u00a0', '\x1c', '\x85', '\ufeff');
const key = fc.tuple(pick('aws_access_key_id', 'region', 'S3', 'x', 'A-b.c'), fc.boolean()).map(([k, upper]) => (upper ? k.toUpperCase() : k));
const value = text('ab1 ;#=:[]/+ü\t\v\x1d\u2028');

const line = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(indent, pick('default', 'DEFAULT', 'p', 'profile x', ' sp ', 'a.b', 'ü'), pick('', '', ' ; c', ' # c', ']', 'x')).map(([i, n, t]) => `${i}[${n}]${t}`) },
  { weight: 6, arbitrary: fc.tuple(indent, key, pick('', ' ', '\t'), pick('=', ':', ' = '), pick('', ' '), value).map(([i, k, a, d, b, v]) => `${i}${k}${a}${d}${b}${v}`) },
  { weight: 2, arbitrary: fc.tuple(indent, pick('#', ';'), value).map(([i, c, v]) => `${i}${c}${v}`) },
  { weight: 2, arbitrary: pick('', ' ', '\t') },
  { weight: 2, arbitrary: fc.tuple(pick('  ', '    ', '\t'), pick('k = v', 'cont', 'x: y', '[z]', '')).map(([i, v]) => `${i}${v}`) },
  { weight: 1, arbitrary: pick('junk', '= nokey', '[]', '[', 'a b c') },
);

const file = fc
  .tuple(fc.array(fc.tuple(line, pick('\n', '\n', '\r\n', '\r')), { maxLength: 12 }), fc.boolean())
  .map(([lines, finalBreak]) => lines.map(([l, eol], i) => (i < lines.length - 1 || finalBreak ? l + eol : l)).join(''));

/**
 * The one deliberate difference: botocore fails on a leading byte-order mark, keyup reads past it.
 * So a file with one must read as botocore reads it without.
 */
function withoutBom(source: string): string {
  return source.startsWith('\ufeff') ? source.slice(1) : source;
}

type Parsed = { sections: Record<string, Record<string, string>> } | { error: string };

function parseWithKeyup(source: string): Parsed {
  try {
    const document = parseIni(source, 'credentials');
    return { sections: Object.fromEntries(document.sections.map((s) => [s.name, Object.fromEntries([...s.entries].map(([k, e]) => [k, e.value]))])) };
  } catch (error) {
    return { error: (error as Error).name };
  }
}

describe.skipIf(PYTHON === undefined)('parseIni agrees with botocore', () => {
  it('on random INI soup', () => {
    const seed = Number(process.env.SEED ?? Date.now());
    const samples = fc.sample(file, { numRuns: Number(process.env.RUNS ?? 600), seed });
    const fromBotocore = JSON.parse(execFileSync(PYTHON as string, ['-c', BOTOCORE_SCRIPT], { input: JSON.stringify(samples.map(withoutBom)), timeout: 60_000, env: { ...process.env, PYTHONUTF8: '1' } }).toString()) as Parsed[];
    let errors = 0;
    samples.forEach((source, i) => {
      const expected = fromBotocore[i];
      const actual = parseWithKeyup(source);
      const context = { seed, source };
      if (expected !== undefined && 'error' in expected) {
        errors += 1;
        expect({ ...context, keyupRejects: 'error' in actual }).toEqual({ ...context, keyupRejects: true });
      } else {
        expect({ ...context, parsed: actual }).toEqual({ ...context, parsed: expected });
      }
    });
    // The soup must exercise both outcomes to mean anything.
    expect(errors).toBeGreaterThan(30);
    expect(samples.length - errors).toBeGreaterThan(30);
  });
});
