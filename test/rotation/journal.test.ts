import { describe, expect, it } from 'vitest';
import { Journal, type JournalEntry } from '../../src/rotation/journal.js';
import { createMemoryFs } from '../support/memfs.js';

const entry: JournalEntry = {
  version: 1,
  profile: 'team ops/ünïcode',
  step: 'created',
  startedAt: '2026-11-24T07:00:00.000Z',
  force: false,
  user: { name: 'alice', arn: 'arn:aws:iam::123456789012:user/alice', account: '123456789012' },
  oldKey: 'delete',
  oldKeyId: 'AKIAOLDOLDOLDOLDOLD1',
  newKey: { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'new-secret', createDate: '2026-11-24T07:00:01.000Z' },
};

describe('Journal', () => {
  it('keeps an entry per profile in a private folder, under a safe file name', async () => {
    const { fs, vol } = createMemoryFs();
    const journal = new Journal({ fs, stateDir: '/state' });
    await journal.write(entry);
    expect(await journal.read(entry.profile)).toEqual(entry);
    expect(await journal.listProfiles()).toEqual([entry.profile]);
    expect(vol.readdirSync('/state/journal')).toEqual(['team%20ops%2F%C3%BCn%C3%AFcode.json']);
    expect(vol.statSync(journal.pathOf(entry.profile)).mode & 0o777).toBe(0o600);
    expect(vol.statSync('/state/journal').mode & 0o777).toBe(0o700);
  });

  it('reads nothing when no rotation is unfinished', async () => {
    const journal = new Journal({ fs: createMemoryFs().fs, stateDir: '/state' });
    expect(await journal.read('default')).toBeUndefined();
    expect(await journal.listProfiles()).toEqual([]);
  });

  it('zeroes the file before removing it, so the secret does not stay behind', async () => {
    const { fs, vol } = createMemoryFs();
    const journal = new Journal({ fs, stateDir: '/state' });
    await journal.write(entry);
    const path = journal.pathOf(entry.profile);
    // A reader that opened the file before: it sees what is left in the file's blocks.
    const fd = vol.openSync(path, 'r');
    await journal.remove(entry.profile);
    const buffer = Buffer.alloc(512);
    vol.readSync(fd, buffer, 0, 512, 0);
    vol.closeSync(fd);
    expect(buffer.toString('utf8')).not.toContain('new-secret');
    expect(vol.existsSync(path)).toBe(false);
    await journal.remove(entry.profile);
  });

  it('refuses, and keeps, a journal it cannot read: it may hold the only copy of a secret', async () => {
    const { fs, vol } = createMemoryFs({ '/state/journal/default.json': '{"version":1,' });
    const journal = new Journal({ fs, stateDir: '/state' });
    await expect(journal.read('default')).rejects.toThrow('/state/journal/default.json is not one keyup can read');
    // keyup's own state, not a bug: status says so with a code scripts can match.
    await expect(journal.read('default')).rejects.toMatchObject({ code: 'state' });
    expect(vol.readFileSync('/state/journal/default.json', 'utf8')).toBe('{"version":1,');
  });
});
