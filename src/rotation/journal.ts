import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { KeyupError } from '../errors.js';
import { describeFsError } from '../fs/describe-fs-error.js';
import { writeFileAtomically } from '../fs/atomic-write.js';
import { getErrorCode, readText, syncFolder, syncHandle, writeInPrivateDir, type FileSystem } from '../fs/fs.js';

/**
 * How far a rotation got. Each step written is recorded, durably, before the action that follows it:
 * - `creating`: CreateAccessKey may be in flight; IAM may hold a key whose secret we never saw.
 * - `created`: the new key and its secret are on disk; nothing else knows them yet.
 * - `verified`: STS accepted the new key as the same user.
 * - `written`: the credentials file held the new key; the old key may still be active.
 * - `hooked`: every `post_rotate` hook has run with the new key; only retirement is left.
 * - `retired`: the old key is gone and the rotation is over. The entry is kept for a while as the
 *   safety copy of the new secret: a program that read the file before keyup's write and saves its
 *   stale copy after it (an editor, a dotfile sync) would otherwise destroy the only copy of a key
 *   that is now the user's one working key. keyup puts it back from here.
 *
 * keyup writes `creating`, `created` and `retired` only; it still reads `verified` and `written`,
 * which earlier versions wrote (a journal left by one is finished by this one). Those two spared
 * no safety, only work after a crash, at the price of two durable writes in every rotation:
 * - instead of `verified`: recovery from `created` verifies the key again (a few STS calls),
 *   which is what a crash between verifying and writing costs now;
 * - instead of `written`: the files say it. A new key in a file was verified before it was written
 *   (keyup writes it nowhere else first), so recovery takes a journal at `created` whose new key a
 *   file holds as `written` (the rotator's `reachedStep`): it neither verifies it again nor could
 *   ever undo it. A write another program clobbered since is applied again, as from `written`.
 */
export type JournalStep = 'creating' | 'created' | 'verified' | 'written' | 'hooked' | 'retired';

export interface JournalUser {
  readonly name: string;
  readonly arn: string;
  readonly account: string;
}

/**
 * When IAM may have created the key of an interrupted CreateAccessKey, by IAM's own clock (the
 * `Date` of its answers), never the machine's: a key created in this window, that existed before
 * the call under no id, is the one keyup made.
 */
export interface CreateWindow {
  readonly from: string;
  readonly to: string;
}

export interface JournalEntry {
  /** 1: written by keyup before the create window existed; read, never written. */
  readonly version: 1 | 2;
  readonly profile: string;
  readonly step: JournalStep;
  /** When the rotation began; a key newer than this that keyup cannot name is one it made. */
  readonly startedAt: string;
  readonly force: boolean;
  readonly user: JournalUser;
  readonly manageWith?: string;
  /** What becomes of the old key, fixed when the rotation began so a resumed one does the same. */
  readonly oldKey: 'delete' | 'deactivate';
  readonly oldKeyId: string;
  /** Every key id the user had just before CreateAccessKey: none of them can be the new one. */
  readonly knownKeyIds?: readonly string[];
  /** Absent when IAM's clock was unknown: then no key is ever taken for keyup's own. */
  readonly createWindow?: CreateWindow;
  /** The `post_rotate` hooks, as configured when the rotation began (a resumed rotation runs these). */
  readonly hooks?: readonly { readonly command: string; readonly argv: readonly string[] }[];
  /** When the old key was retired, by this machine's clock (the safety copy is kept a while after). */
  readonly retiredAt?: string;
  readonly newKey?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly createDate: string;
  };
}

const STEPS: readonly JournalStep[] = ['creating', 'created', 'verified', 'written', 'hooked', 'retired'];

/** File names stay well under every file system's 255-byte limit; longer names are hashed. */
const MAX_NAME_BYTES = 160;

/**
 * Journal folders whose parent this process has flushed. A folder is lost in a power cut until
 * its parent is flushed too, and the process that made it may have died before it did that; once
 * this process has done it, it holds for the life of the folder.
 */
const flushedParents = new Set<string>();

function isJournalEntry(value: unknown): value is JournalEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<JournalEntry>;
  return (
    (entry.version === 1 || entry.version === 2) &&
    typeof entry.profile === 'string' &&
    STEPS.includes(entry.step as JournalStep) &&
    typeof entry.startedAt === 'string' &&
    typeof entry.oldKeyId === 'string' &&
    typeof entry.user?.name === 'string' &&
    (entry.step === 'creating' || typeof entry.newKey?.secretAccessKey === 'string')
  );
}

/**
 * One small file per profile in `<state>/journal/`, 0600, replaced atomically: the only place a
 * new secret is kept before the credentials file has it.
 */
export class Journal {
  private readonly fs: FileSystem;
  private readonly stateDir: string;
  readonly dir: string;
  /** Leftover temp files are looked for at the first write only: a Journal lives for one run. */
  private swept = false;

  constructor({ fs, stateDir }: { fs: FileSystem; stateDir: string }) {
    this.fs = fs;
    this.stateDir = stateDir;
    this.dir = join(stateDir, 'journal');
  }

  pathOf(profile: string): string {
    // Profile names may hold spaces, slashes and unicode; the file name must not. A very long
    // name is hashed (the entry itself says whose it is).
    const encoded = encodeURIComponent(profile);
    const name = encoded.length <= MAX_NAME_BYTES ? encoded : `~${createHash('sha256').update(profile).digest('hex')}`;
    return join(this.dir, `${name}.json`);
  }

  /** @throws KeyupError (code `state`) saying what stopped the write: a full disk, a permission. */
  async write(entry: JournalEntry): Promise<void> {
    try {
      const flushParent = async () => {
        await syncFolder(this.fs, this.stateDir);
        flushedParents.add(this.dir);
      };
      const write = () =>
        writeFileAtomically({
          fs: this.fs,
          file: this.pathOf(entry.profile),
          data: `${JSON.stringify(entry)}\n`,
          removeLeftovers: !this.swept,
          // Every step but the last must survive a power cut. A `retired` whose rename is lost
          // leaves `created` (flushed), from which the next run sees the new key in the file and
          // the old one gone, and records `retired` again.
          flushFolder: entry.step !== 'retired',
        });
      await writeInPrivateDir(this.fs, this.dir, write, { made: flushParent });
      this.swept = true;
      if (!flushedParents.has(this.dir)) await flushParent();
    } catch (error) {
      throw new KeyupError(`keyup could not write its rotation journal in ${this.dir} (${describeFsError(error)}).`, {
        code: 'state',
        hint: entry.step === 'creating' ? 'Nothing was changed; fix that, and keyup tries again at the next check.' : 'The rotation goes on at the next check, from the last step recorded; fix that first.',
        cause: error,
      });
    }
  }

  async read(profile: string): Promise<JournalEntry | undefined> {
    const path = this.pathOf(profile);
    let text: string;
    try {
      text = await readText(this.fs, path);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isJournalEntry(value) || value.profile !== profile) {
      // Never delete it: it may hold the only copy of a new key's secret.
      throw new KeyupError(`The rotation journal ${path} is not one keyup can read, so the rotation of profile ${profile} cannot be finished.`, {
        hint: 'Look inside it for a new key (it may hold its secret), put that key in the credentials file by hand if it is needed, then delete the file.',
        code: 'state',
      });
    }
    return value;
  }

  /** Every profile with a journal: an unfinished rotation, or a finished one's safety copy. */
  async listProfiles(): Promise<string[]> {
    let names: readonly unknown[];
    try {
      names = await this.fs.promises.readdir(this.dir);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return [];
      throw error;
    }
    const profiles: string[] = [];
    for (const name of names) {
      if (typeof name !== 'string' || !name.endsWith('.json') || name.startsWith('.')) continue;
      const stem = name.slice(0, -'.json'.length);
      if (!stem.startsWith('~')) {
        profiles.push(decodeURIComponent(stem));
        continue;
      }
      // A hashed name: the profile is inside. An unreadable one is named by its file, so that
      // reading it reports the problem rather than skipping a journal that may hold a secret.
      const profile = await readText(this.fs, join(this.dir, name)).then(
        (text) => (JSON.parse(text) as { profile?: unknown }).profile,
        () => undefined,
      ).catch(() => undefined);
      profiles.push(typeof profile === 'string' ? profile : stem);
    }
    return profiles;
  }

  /**
   * Ends a rotation's journal. The file is overwritten with zeros before it is unlinked, so the
   * secret does not linger in its blocks (on file systems that write in place).
   */
  async remove(profile: string): Promise<void> {
    const path = this.pathOf(profile);
    let handle;
    try {
      handle = await this.fs.promises.open(path, 'r+');
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      const size = Number((await handle.stat()).size);
      await handle.write(new Uint8Array(size), 0, size, 0);
      await syncHandle(handle);
    } finally {
      await handle.close();
    }
    await this.fs.promises.unlink(path);
    await syncFolder(this.fs, this.dir);
  }
}
