import { describe, expect, it } from 'vitest';
import { replaceAccessKey } from '../../src/credentials/edit.js';
import { parseIni, type IniDocument, type IniEntry } from '../../src/credentials/parse.js';
import { FileFormatError, KeyupError } from '../../src/errors.js';

const OLD = 'AKIAOLDOLDOLDOLDOLD1';
const NEW = { accessKeyId: 'AKIANEWNEWNEWNEWNEW2', secretAccessKey: 'newSecret/+=abcdefghijklmnopqrstuvwxyz01' };

function edit(text: string, oldKeyId = OLD) {
  return replaceAccessKey(parseIni(text, '/c'), oldKeyId, NEW);
}

describe('replaceAccessKey', () => {
  it('changes only the two values and keeps spacing, case, comments and line endings', () => {
    const text = '\ufeff# keys\r\n[default]\r\nAWS_ACCESS_KEY_ID   =\tAKIAOLDOLDOLDOLDOLD1   \r\n; secret next\r\naws_secret_access_key:oldsecret\r\nregion = eu-west-1';
    expect(edit(text)).toEqual({
      text: `\ufeff# keys\r\n[default]\r\nAWS_ACCESS_KEY_ID   =\t${NEW.accessKeyId}   \r\n; secret next\r\naws_secret_access_key:${NEW.secretAccessKey}\r\nregion = eu-west-1`,
      changed: ['default'],
    });
  });

  it('changes every profile that holds the old key and no other', () => {
    const text = `[a]\naws_access_key_id=${OLD}\naws_secret_access_key=s1\n[b]\naws_access_key_id = AKIAOTHEROTHEROTHER3\naws_secret_access_key = s2\n[c.d e]\naws_secret_access_key = s3\naws_access_key_id = ${OLD}\n`;
    const result = edit(text);
    expect(result.changed).toEqual(['a', 'c.d e']);
    expect(result.text).toBe(
      `[a]\naws_access_key_id=${NEW.accessKeyId}\naws_secret_access_key=${NEW.secretAccessKey}\n[b]\naws_access_key_id = AKIAOTHEROTHEROTHER3\naws_secret_access_key = s2\n[c.d e]\naws_secret_access_key = ${NEW.secretAccessKey}\naws_access_key_id = ${NEW.accessKeyId}\n`,
    );
  });

  it('changes a profile that also assumes a role with its own key as source (that key is being retired)', () => {
    const text = `[r]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\nrole_arn = arn\nsource_profile = r\n`;
    expect(edit(text).changed).toEqual(['r']);
  });

  it('never touches temporary credentials', () => {
    const text = `[t]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\naws_session_token = tok\n`;
    expect(edit(text)).toEqual({ text, changed: [] });
  });

  it('leaves a profile without a secret alone', () => {
    const text = `[p]\naws_access_key_id = ${OLD}\n`;
    expect(edit(text)).toEqual({ text, changed: [] });
  });

  it('fills an empty secret value', () => {
    expect(edit(`[p]\naws_access_key_id = ${OLD}\naws_secret_access_key =\n`).text).toBe(`[p]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key =${NEW.secretAccessKey}\n`);
  });

  it('does not match a key id with inline text after it: the AWS CLI reads that text as part of the id', () => {
    const text = `[p]\naws_access_key_id = ${OLD} ; work\naws_secret_access_key = s\n`;
    expect(edit(text).changed).toEqual([]);
  });

  it('changes a key inherited from [DEFAULT] once, for every profile that inherits it', () => {
    const text = `[DEFAULT]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\n[a]\nregion = x\n[b]\nregion = y\n`;
    const result = edit(text);
    expect(result.changed).toEqual(['a', 'b']);
    expect(result.text).toBe(`[DEFAULT]\naws_access_key_id = ${NEW.accessKeyId}\naws_secret_access_key = ${NEW.secretAccessKey}\n[a]\nregion = x\n[b]\nregion = y\n`);
  });

  it('is idempotent: once the old key is gone nothing changes', () => {
    const once = edit(`[p]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\n`);
    expect(edit(once.text)).toEqual({ text: once.text, changed: [] });
  });

  it('refuses a secret that goes on over indented lines, naming its line', () => {
    const text = `[p]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\n  more\n`;
    expect(() => edit(text)).toThrow(FileFormatError);
    expect(() => edit(text)).toThrow('/c, line 3: the aws_secret_access_key of [p] goes on over the indented lines below it');
  });

  it('refuses malformed key ids and secrets without quoting them', () => {
    const text = `[p]\naws_access_key_id =\naws_secret_access_key = s\n`;
    // An empty old key id would otherwise match the empty value above.
    expect(() => edit(text, '')).toThrow(KeyupError);
    const document = parseIni(`[p]\naws_access_key_id = ${OLD}\naws_secret_access_key = s\n`, '/c');
    for (const secretAccessKey of ['has space', 'line\nbreak', '']) {
      expect(() => replaceAccessKey(document, OLD, { ...NEW, secretAccessKey })).toThrow(/^The new secret access key is not in the form IAM gives/);
    }
    expect(() => replaceAccessKey(document, OLD, { ...NEW, accessKeyId: 'akia\n[x]' })).toThrow(/not a valid IAM key id/);
  });
});

// The rewrite is read back before it is written. Since issue 8 only the changed lines are (the
// whole text cost as much as the parse); these documents carry wrong value spans, which only a
// bug in the parser could make, and each must still be refused.
describe('replaceAccessKey reads its rewrite back', () => {
  const text = `[p]\naws_access_key_id = ${OLD}\naws_secret_access_key = old/secret\nregion = eu-west-1\n`;

  function tamper(key: string, change: (entry: IniEntry) => Partial<IniEntry>): IniDocument {
    const document = parseIni(text, '/c');
    return {
      ...document,
      sections: document.sections.map((section) => ({
        ...section,
        entries: new Map([...section.entries].map(([name, entry]) => [name, name === key ? { ...entry, ...change(entry) } : entry])),
      })),
    };
  }

  it.each([
    ['a span that runs into the next line', 'aws_secret_access_key', (entry: IniEntry) => ({ valueEnd: entry.valueEnd + 1 })],
    ['a span that starts on the key’s delimiter', 'aws_access_key_id', (entry: IniEntry) => ({ valueStart: entry.valueStart - 2 })],
    ['a span that leaves part of the old value', 'aws_access_key_id', (entry: IniEntry) => ({ valueEnd: entry.valueEnd - 1 })],
    ['a span on another line', 'aws_secret_access_key', (entry: IniEntry) => ({ valueStart: entry.valueStart + 20, valueEnd: entry.valueEnd + 20 })],
  ])('refuses %s, changing nothing', (_case, key, change) => {
    expect(() => replaceAccessKey(tamper(key, change), OLD, NEW)).toThrow('keyup could not rewrite /c safely, so it left it unchanged.');
  });

  it('accepts the spans the parser gives, indented and in [DEFAULT] alike', () => {
    const indented = `[DEFAULT]\n  aws_access_key_id=${OLD}\n  aws_secret_access_key :  s \r\n[a]\nregion = x`;
    expect(replaceAccessKey(parseIni(indented, '/c'), OLD, NEW).text).toBe(`[DEFAULT]\n  aws_access_key_id=${NEW.accessKeyId}\n  aws_secret_access_key :  ${NEW.secretAccessKey} \r\n[a]\nregion = x`);
  });
});
