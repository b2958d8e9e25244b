import { describe, expect, it } from 'vitest';
import { CredentialsStore } from '../../src/credentials/store.js';
import type { CredentialsStoreInit } from '../../src/credentials/store.js';
import type { FileSystem } from '../../src/fs/fs.js';
import { FileFormatError, KeyupError } from '../../src/errors.js';
import { resolvePaths } from '../../src/paths.js';
import { createFakeClock, createMemoryFs, createSystemError, hookFs, NEW_KEY, OLD_ID, OLD_SECRET } from './support.js';

const HOME = '/home/u';
const paths = resolvePaths({ env: {}, home: HOME });
const CREDENTIALS = paths.credentialsFile;
const CONFIG = paths.awsConfigFile;
const BACKUPS = `${paths.stateDir}/backups`;

const credentials = `# work\n[default]\naws_access_key_id = ${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER3\naws_secret_access_key = s\n`;
const rotated = credentials.replace(OLD_ID, NEW_KEY.accessKeyId).replace(OLD_SECRET, NEW_KEY.secretAccessKey);

function createStore(fs: FileSystem, init: Partial<CredentialsStoreInit> = {}): CredentialsStore {
  return new CredentialsStore({ fs, paths, clock: createFakeClock(), ...init });
}

async function getError(promise: Promise<unknown>): Promise<KeyupError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KeyupError) return error;
    throw error;
  }
  throw new Error('expected a KeyupError');
}

describe('CredentialsStore.read', () => {
  it('reads and classifies the profiles of both files', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: '[default]\nregion = eu-west-1\n[profile sso]\nsso_session = corp\n' });
    const snapshot = await createStore(fs).read();
    expect(snapshot).toMatchObject({ credentialsFile: CREDENTIALS, configFile: CONFIG, bom: false });
    expect(snapshot.profiles).toEqual([
      { name: 'default', source: 'credentials', kind: 'long-term', accessKeyId: OLD_ID },
      { name: 'other', source: 'credentials', kind: 'long-term', accessKeyId: 'AKIAOTHEROTHEROTHER3' },
      { name: 'sso', source: 'config', kind: 'other', via: 'sso' },
    ]);
  });

  it('honours AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE through resolvePaths', async () => {
    const custom = resolvePaths({ env: { AWS_SHARED_CREDENTIALS_FILE: '/dot/aws-creds', AWS_CONFIG_FILE: '/dot/aws-config' }, home: HOME });
    const fs = createMemoryFs({ '/dot/aws-creds': '[mine]\naws_access_key_id = AKIAMINEMINEMINEMIN4\naws_secret_access_key = s\n', '/dot/aws-config': '[profile cfg]\nregion = r\n' });
    const snapshot = await new CredentialsStore({ fs, paths: custom }).read();
    expect(snapshot.profiles.map((p) => p.name)).toEqual(['mine', 'cfg']);
  });

  it('reads without a config file, as the AWS CLI does', async () => {
    const snapshot = await createStore(createMemoryFs({ [CREDENTIALS]: credentials })).read();
    expect(snapshot.profiles).toHaveLength(2);
  });

  it('reports a byte-order mark, which the AWS CLI cannot read', async () => {
    const snapshot = await createStore(createMemoryFs({ [CREDENTIALS]: `\ufeff${credentials}` })).read();
    expect(snapshot.bom).toBe(true);
  });

  it('says a missing credentials file does not exist, and how to fix it', async () => {
    const error = await getError(createStore(createMemoryFs({ '/home/u/.aws/config': '' })).read());
    expect(error.message).toBe(`The AWS credentials file ${CREDENTIALS} does not exist.`);
    expect(error.hint).toMatch(/aws configure.*AWS_SHARED_CREDENTIALS_FILE/);
  });

  it('says when the credentials file is a link to nothing', async () => {
    const fs = createMemoryFs({ '/home/u/.aws/config': '' });
    fs.symlinkSync('/dotfiles/missing', CREDENTIALS);
    expect((await getError(createStore(fs).read())).message).toBe(`The AWS credentials file ${CREDENTIALS} is a link to a file that does not exist.`);
  });

  it.each([
    ['nothing', ''],
    ['blank lines', '\n  \r\n'],
    ['a byte-order mark', '\ufeff\n'],
  ])('says a credentials file holding %s is empty', async (_case, content) => {
    const error = await getError(createStore(createMemoryFs({ [CREDENTIALS]: content })).read());
    expect(error.message).toBe(`The AWS credentials file ${CREDENTIALS} is empty.`);
    expect(error.hint).toMatch(/aws configure/);
  });

  it('says keyup may not read a credentials file it has no permission for', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    fs.chmodSync(CREDENTIALS, 0o000);
    const error = await getError(createStore(fs).read());
    expect(error.message).toBe(`keyup is not allowed to read the AWS credentials file ${CREDENTIALS}.`);
    expect(error.hint).toContain(`chmod 600 ${CREDENTIALS}`);
  });

  it('says the same of an unreadable config file', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: '[default]\n' });
    fs.chmodSync(CONFIG, 0o000);
    expect((await getError(createStore(fs).read())).message).toBe(`keyup is not allowed to read the AWS config file ${CONFIG}.`);
  });

  it('says a folder is not a regular file', async () => {
    const fs = createMemoryFs();
    fs.mkdirSync(CREDENTIALS, { recursive: true });
    expect((await getError(createStore(fs).read())).message).toBe(`The AWS credentials file ${CREDENTIALS} is not a regular file.`);
  });

  it('names the file and line of a parse error in either file', async () => {
    const broken = await getError(createStore(createMemoryFs({ [CREDENTIALS]: '[a]\nx = 1\n[a]\n' })).read());
    expect(broken).toBeInstanceOf(FileFormatError);
    expect(broken.message).toBe(`${CREDENTIALS}, line 3: the section [a] appears twice (first on line 1).`);
    const config = await getError(createStore(createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: 'region = x\n' })).read());
    expect(config.message).toBe(`${CONFIG}, line 1: this line comes before the first [section] header.`);
  });
});

describe('CredentialsStore.replaceKey', () => {
  it('rewrites only the two values and returns the changed profiles', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    const result = await createStore(fs, { backup: false }).replaceKey(OLD_ID, NEW_KEY);
    expect(result).toEqual({ changed: ['default'], changedInConfig: [] });
    expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(rotated);
    expect(fs.readdirSync('/home/u/.aws')).toEqual(['credentials']);
  });

  it('keeps every other byte: BOM, CRLF, comments, unicode, no final newline', async () => {
    const text = `\ufeff; top\r\n[ünï côdé.dev-1]\r\nAWS_ACCESS_KEY_ID:${OLD_ID}\r\n# mid\r\naws_secret_access_key\t=\t${OLD_SECRET}  \r\n[b]\nregion = x ; kept`;
    const fs = createMemoryFs({ [CREDENTIALS]: Buffer.from(text, 'utf8') });
    expect(await createStore(fs, { backup: false }).replaceKey(OLD_ID, NEW_KEY)).toEqual({ changed: ['ünï côdé.dev-1'], changedInConfig: [] });
    const expected = Buffer.from(text.replace(OLD_ID, NEW_KEY.accessKeyId).replace(OLD_SECRET, NEW_KEY.secretAccessKey), 'utf8');
    expect(Buffer.compare(fs.readFileSync(CREDENTIALS) as Buffer, expected)).toBe(0);
  });

  it('writes nothing (and backs nothing up) when no profile holds the old key', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    const before = fs.statSync(CREDENTIALS).mtimeMs;
    expect(await createStore(fs).replaceKey('AKIAUNKNOWNUNKNOWN05', NEW_KEY)).toEqual({ changed: [], changedInConfig: [] });
    expect(fs.statSync(CREDENTIALS).mtimeMs).toBe(before);
    expect(fs.existsSync(BACKUPS)).toBe(false);
  });

  it('never rewrites a file it cannot parse completely, nor backs it up', async () => {
    const text = `[default]\naws_access_key_id = ${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\nthis is not ini\n`;
    const fs = createMemoryFs({ [CREDENTIALS]: text });
    const error = await getError(createStore(fs).replaceKey(OLD_ID, NEW_KEY));
    expect(error.message).toMatch(/line 4: this line is neither/);
    expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(text);
    expect(fs.existsSync(BACKUPS)).toBe(false);
  });

  it('tightens group and other bits and keeps the owner bits', async () => {
    for (const [before, after] of [
      [0o644, 0o600],
      [0o600, 0o600],
      [0o400, 0o400],
      [0o777, 0o600],
    ] as const) {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      fs.chmodSync(CREDENTIALS, before);
      await createStore(fs, { backup: false }).replaceKey(OLD_ID, NEW_KEY);
      expect(fs.statSync(CREDENTIALS).mode & 0o777).toBe(after);
    }
  });

  it('writes through a chain of links to the real file, and the links stay links', async () => {
    const fs = createMemoryFs({ '/dotfiles/aws/credentials': credentials });
    fs.symlinkSync('/dotfiles/aws/credentials', '/dotfiles/current');
    fs.mkdirSync('/home/u/.aws', { recursive: true });
    fs.symlinkSync('/dotfiles/current', CREDENTIALS);
    await createStore(fs, { backup: false }).replaceKey(OLD_ID, NEW_KEY);
    expect(fs.lstatSync(CREDENTIALS).isSymbolicLink()).toBe(true);
    expect(fs.lstatSync('/dotfiles/current').isSymbolicLink()).toBe(true);
    expect(fs.readFileSync('/dotfiles/aws/credentials', 'utf8')).toBe(rotated);
    expect(fs.readdirSync('/dotfiles/aws')).toEqual(['credentials']);
  });

  describe('backups', () => {
    it('saves a 0600 copy of the old bytes in <stateDir>/backups (0700) before the rewrite', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      const result = await createStore(fs).replaceKey(OLD_ID, NEW_KEY);
      expect(result.backupFile).toBe(`${BACKUPS}/credentials-2026-11-24T07-00-00.000Z.bak`);
      expect(fs.readFileSync(result.backupFile ?? '', 'utf8')).toBe(credentials);
      expect(fs.statSync(result.backupFile ?? '').mode & 0o777).toBe(0o600);
      expect(fs.statSync(BACKUPS).mode & 0o777).toBe(0o700);
    });

    it('keeps the newest backup_keep copies and leaves other files alone', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials, [`${BACKUPS}/notes.txt`]: 'mine' });
      const clock = createFakeClock();
      const store = createStore(fs, { clock, backupKeep: 3 });
      let key = { accessKeyId: OLD_ID, secretAccessKey: OLD_SECRET };
      for (let i = 0; i < 5; i += 1) {
        const next = { accessKeyId: `AKIAROUND${i}ROUND${i}ROUND${i}`, secretAccessKey: `secret${i}` };
        await store.replaceKey(key.accessKeyId, next);
        key = next;
        clock.advance(i === 1 ? 0 : 60_000);
      }
      expect(fs.readdirSync(BACKUPS)).toEqual([
        'credentials-2026-11-24T07-01-00.000Z~1.bak',
        'credentials-2026-11-24T07-02-00.000Z.bak',
        'credentials-2026-11-24T07-03-00.000Z.bak',
        'notes.txt',
      ]);
      expect(fs.readFileSync(`${BACKUPS}/credentials-2026-11-24T07-03-00.000Z.bak`, 'utf8')).toContain('AKIAROUND3ROUND3ROUND3');
    });

    it('keeps every copy with backup_keep = 0', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      const clock = createFakeClock();
      const store = createStore(fs, { clock, backupKeep: 0 });
      let key = { accessKeyId: OLD_ID, secretAccessKey: OLD_SECRET };
      for (let i = 0; i < 12; i += 1) {
        const next = { accessKeyId: `AKIAKEEP${String(i).padStart(2, '0')}KEEPKEEPKE`, secretAccessKey: `secret${i}` };
        await store.replaceKey(key.accessKeyId, next);
        key = next;
        clock.advance(60_000);
      }
      expect(fs.readdirSync(BACKUPS)).toHaveLength(12);
    });

    it('leaves the file alone when the backup cannot be written', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials, [paths.stateDir]: 'a file where a folder should be' });
      const error = await getError(createStore(fs).replaceKey(OLD_ID, NEW_KEY));
      expect(error.message).toMatch(/^keyup could not save a backup of the AWS credentials file in .*backups \(\w+\), so it left the file as it was\.$/);
      expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(credentials);
    });
  });

  describe('when the file changes while it is being rewritten', () => {
    const userEdit = (text: string) => text.replace('[other]', '[other]\nregion = eu-west-1 ; the user added this');

    it("re-reads it and applies the key to the user's version", async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      let edited = false;
      const racing = hookFs(fs, {
        // The user saves the file just as keyup has written its temp file.
        open: async (path, flags, mode) => {
          const handle = await fs.promises.open(path, flags, mode);
          if (!edited && path.includes('.keyup-')) {
            edited = true;
            fs.writeFileSync(CREDENTIALS, userEdit(String(fs.readFileSync(CREDENTIALS, 'utf8'))));
          }
          return handle;
        },
      });
      const result = await createStore(racing, { backup: false }).replaceKey(OLD_ID, NEW_KEY);
      expect(result.changed).toEqual(['default']);
      expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(userEdit(rotated));
      expect(fs.readdirSync('/home/u/.aws')).toEqual(['credentials']);
    });

    it('gives up after maxAttempts, leaving the last version the user wrote', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      let edits = 0;
      const busy = hookFs(fs, {
        open: async (path, flags, mode) => {
          const handle = await fs.promises.open(path, flags, mode);
          if (path.includes('.keyup-')) fs.writeFileSync(CREDENTIALS, `${credentials}# edit ${(edits += 1)}\n`);
          return handle;
        },
      });
      const error = await getError(createStore(busy, { backup: false, maxAttempts: 3 }).replaceKey(OLD_ID, NEW_KEY));
      expect(error.message).toBe(`The AWS credentials file ${CREDENTIALS} kept changing while keyup was rewriting it, so keyup left it as it was.`);
      expect(edits).toBe(3);
      expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(`${credentials}# edit 3\n`);
      expect(fs.readdirSync('/home/u/.aws')).toEqual(['credentials']);
    });
  });

  describe('when a write step fails', () => {
    it.each(['open', 'rename'] as const)('leaves the file as it was and no temp file when %s fails', async (step) => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      const failing = hookFs(fs, {
        [step]: async (path: string) => {
          if (path.includes('.keyup-')) throw createSystemError('ENOSPC');
          return (fs.promises[step] as (...args: unknown[]) => Promise<never>)(path);
        },
      });
      const error = await getError(createStore(failing, { backup: false }).replaceKey(OLD_ID, NEW_KEY));
      expect(error.message).toBe(`keyup could not write the AWS credentials file ${CREDENTIALS} (ENOSPC), so it left it as it was.`);
      expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(credentials);
      expect(fs.readdirSync('/home/u/.aws')).toEqual(['credentials']);
    });

    it('says the key is in place when only flushing the folder fails after the rename', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: credentials });
      const failing = hookFs(fs, {
        open: async (path, flags, mode) => {
          if (path === '/home/u/.aws' && fs.readFileSync(CREDENTIALS, 'utf8') === rotated) throw createSystemError('EIO');
          return fs.promises.open(path, flags, mode);
        },
      });
      const error = await getError(createStore(failing, { backup: false }).replaceKey(OLD_ID, NEW_KEY));
      expect(error.message).toBe(`keyup rewrote the AWS credentials file ${CREDENTIALS} but could not flush its folder to disk (EIO).`);
      expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(rotated);
    });

    it('never puts a secret in an error message', async () => {
      const fs = createMemoryFs({ [CREDENTIALS]: `[p]\naws_access_key_id = ${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\n  ${OLD_SECRET}\n` });
      const error = await getError(createStore(fs).replaceKey(OLD_ID, NEW_KEY));
      expect(error.userMessage).toMatch(/line 3: the aws_secret_access_key of \[p\] goes on/);
      expect(error.userMessage).not.toContain(OLD_SECRET);
      expect(error.userMessage).not.toContain(NEW_KEY.secretAccessKey);
    });
  });

  it('removes temp files a crash left behind, once they are stale', async () => {
    const clock = createFakeClock();
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, '/home/u/.aws/.credentials.keyup-0123456789ab.tmp': 'secrets', '/home/u/.aws/.other.keyup-0123456789ab.tmp': 'not ours' });
    clock.advance(Date.now() - clock.now().getTime() + 11 * 60_000);
    await createStore(fs, { clock, backup: false }).replaceKey(OLD_ID, NEW_KEY);
    expect(fs.readdirSync('/home/u/.aws').sort()).toEqual(['.other.keyup-0123456789ab.tmp', 'credentials']);
  });

  it('is idempotent: a second call after success changes nothing', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    const store = createStore(fs);
    await store.replaceKey(OLD_ID, NEW_KEY);
    expect(await store.replaceKey(OLD_ID, NEW_KEY)).toEqual({ changed: [], changedInConfig: [] });
    expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(rotated);
  });

  // Issue 7, hole 11: aws_access_key_id is valid in the AWS config file too; a key kept there
  // would stay the deleted one.
  it('rotates a key kept in the AWS config file as well, byte for byte, and says where', async () => {
    const config = `# config\n[default]\nregion = eu-west-1\n\n[profile legacy]   ; old setup\naws_access_key_id=${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\noutput = json\n`;
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: config });
    const result = await createStore(fs, { backup: false }).replaceKey(OLD_ID, NEW_KEY);
    expect(result).toEqual({ changed: ['default'], changedInConfig: ['legacy'] });
    expect(fs.readFileSync(CONFIG, 'utf8')).toBe(config.replace(OLD_ID, NEW_KEY.accessKeyId).replace(OLD_SECRET, NEW_KEY.secretAccessKey));
    expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(rotated);
  });

  it('lists every holder of a key in either file', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: `[profile legacy]\naws_access_key_id=${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\n` });
    const snapshot = await createStore(fs).read();
    expect(snapshot.keyHolders.get(OLD_ID)).toEqual([
      { file: 'credentials', profile: 'default' },
      { file: 'config', profile: 'legacy' },
    ]);
  });
});

// Issue 7, hole 10: keyup must know before CreateAccessKey that it can write the new key.
describe('CredentialsStore.checkCanReplace', () => {
  it('passes, and leaves nothing behind, when the folder takes new files', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    await createStore(fs).checkCanReplace(OLD_ID);
    expect(fs.readdirSync('/home/u/.aws')).toEqual(['credentials']);
    expect(fs.readFileSync(CREDENTIALS, 'utf8')).toBe(credentials);
  });

  it('says which file cannot be written, and why, when the folder refuses new files', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials });
    const full = hookFs(fs, {
      open: async (path, flags, mode) => {
        if (path.includes('.keyup-')) throw createSystemError('ENOSPC');
        return fs.promises.open(path, flags, mode);
      },
    });
    const error = await getError(createStore(full).checkCanReplace(OLD_ID));
    expect(error.message).toBe(`keyup could not write the AWS credentials file ${CREDENTIALS} (ENOSPC), so it left it as it was.`);
    expect(error.code).toBe('credentials-file');
  });

  it('checks the AWS config file too when it holds the key', async () => {
    const fs = createMemoryFs({ [CREDENTIALS]: credentials, [CONFIG]: `[profile legacy]\naws_access_key_id=${OLD_ID}\naws_secret_access_key = ${OLD_SECRET}\n` });
    const refusing = hookFs(fs, {
      open: async (path, flags, mode) => {
        if (path.startsWith('/home/u/.aws/.config.keyup-')) throw createSystemError('EACCES');
        return fs.promises.open(path, flags, mode);
      },
    });
    const error = await getError(createStore(refusing).checkCanReplace(OLD_ID));
    expect(error.message).toBe(`keyup could not write the AWS config file ${CONFIG} (EACCES), so it left it as it was.`);
  });
});
