import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { KeyupError } from '../errors.js';
import { ensurePrivateDir, getErrorCode, readText, toBytes, writeNewFile, type FileSystem } from '../fs/fs.js';

interface LockOwner {
  pid: number;
  profile: string;
  since: string;
}

export interface RotationLockInit {
  fs: FileSystem;
  stateDir: string;
  pid?: number;
  now?: () => Date;
  /** Whether a process still runs. Default: signal 0. */
  isAlive?: (pid: number) => boolean;
  /**
   * A lock older than this is stale even if its pid runs again (pids are reused after a
   * crash). Every rotation step is bounded well below it. Default 30 minutes.
   */
  staleAfterMs?: number;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return getErrorCode(error) === 'EPERM';
  }
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * One rotation at a time across every keyup process of this user (the daemon, `keyupd --once`
 * from cron): two profiles may hold the same key, so a per-profile lock would not be enough.
 * The lock is a pid-stamped file made with O_EXCL; a lock whose process is gone is taken over,
 * so a kill -9 never blocks the next rotation.
 */
export class RotationLock {
  private readonly fs: FileSystem;
  private readonly path: string;
  private readonly pid: number;
  private readonly now: () => Date;
  private readonly isAlive: (pid: number) => boolean;
  private readonly staleAfterMs: number;

  constructor({ fs, stateDir, pid = process.pid, now = () => new Date(), isAlive = isProcessAlive, staleAfterMs = 30 * 60_000 }: RotationLockInit) {
    this.fs = fs;
    this.path = join(stateDir, 'rotation.lock');
    this.pid = pid;
    this.now = now;
    this.isAlive = isAlive;
    this.staleAfterMs = staleAfterMs;
  }

  async acquire(profile: string): Promise<HeldLock> {
    await ensurePrivateDir(this.fs, join(this.path, '..'));
    const owner: LockOwner = { pid: this.pid, profile, since: this.now().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeNewFile(this.fs, this.path, toBytes(JSON.stringify(owner)), 0o600);
        return { release: () => this.release() };
      } catch (error) {
        if (getErrorCode(error) !== 'EEXIST') throw error;
      }
      const { text, owner: current } = await this.readLock();
      if (current === undefined ? await this.isFreshlyCreated() : !this.isStale(current)) {
        const who = current === undefined ? 'Another keyup process' : `Another keyup process (pid ${current.pid})`;
        const what = current === undefined ? 'is starting a rotation' : `has been rotating profile ${current.profile} since ${current.since}`;
        throw new KeyupError(`${who} ${what}.`, { hint: 'Wait for it to finish, then try again.' });
      }
      await this.removeStale(text);
    }
    throw new KeyupError(`Could not take the rotation lock ${this.path}.`, { hint: 'Another keyup process keeps taking it; try again.' });
  }

  private isStale(owner: LockOwner): boolean {
    const age = this.now().getTime() - Date.parse(owner.since);
    return !this.isAlive(owner.pid) || !(age < this.staleAfterMs);
  }

  /** An unreadable lock is being written right now by its owner, or was left half-written by a crash. */
  private async isFreshlyCreated(): Promise<boolean> {
    try {
      const { mtimeMs } = await this.fs.promises.stat(this.path);
      return this.now().getTime() - Number(mtimeMs) < 5_000;
    } catch {
      return false;
    }
  }

  /**
   * Moves the stale lock aside instead of deleting it by name: another process may have judged
   * it stale too, removed it and taken the lock, and its fresh lock must not go. Only the lock
   * whose contents were judged stale is removed; anything else is put back.
   */
  private async removeStale(staleText: string | undefined): Promise<void> {
    const aside = `${this.path}.${this.pid}.${randomBytes(4).toString('hex')}.stale`;
    try {
      await this.fs.promises.rename(this.path, aside);
    } catch (error) {
      if (getErrorCode(error) === 'ENOENT') return;
      throw error;
    }
    const moved = await readText(this.fs, aside).catch(() => undefined);
    if (moved === staleText) await this.fs.promises.unlink(aside);
    else await this.fs.promises.rename(aside, this.path);
  }

  private async readLock(): Promise<{ text: string | undefined; owner: LockOwner | undefined }> {
    let text: string;
    try {
      text = await readText(this.fs, this.path);
    } catch {
      return { text: undefined, owner: undefined };
    }
    try {
      const value = JSON.parse(text) as Partial<LockOwner>;
      const valid = typeof value.pid === 'number' && typeof value.profile === 'string' && typeof value.since === 'string';
      return { text, owner: valid ? (value as LockOwner) : undefined };
    } catch {
      return { text, owner: undefined };
    }
  }

  private async release(): Promise<void> {
    const { owner } = await this.readLock();
    if (owner?.pid === this.pid) await this.fs.promises.unlink(this.path).catch(() => undefined);
  }
}
