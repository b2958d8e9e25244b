import { dirname, join, relative, resolve, sep } from 'node:path';
import { KeyupError } from '../errors.js';
import { getErrorCode, type FileSystem } from './fs.js';

/**
 * Makes `dir` and its missing parents, like `mkdir -p`. Each folder it makes is 0700 whatever the
 * umask (SPEC: every folder keyup makes is 0700). A folder that already exists is left exactly as
 * it is: its mode is its owner's business, and changing it broke systems (issue 7, hole 5: a log
 * file in HOME made HOME 0700, one in /tmp took away its sticky bit, and as root `/` became 0700).
 * Something in the way that is not a folder is a {@link KeyupError} naming it.
 */
export async function ensureFolder(fs: FileSystem, dir: string): Promise<void> {
  const target = resolve(dir);
  let first: unknown;
  try {
    // mkdir -p answers the first folder it made, or undefined when every level was there already.
    first = await fs.promises.mkdir(target, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw await describeFailure(fs, target, error);
  }
  if (typeof first !== 'string') return;
  // The umask may have taken bits off the 0700 asked for; put back exactly 0700 on what we made.
  let folder = first;
  const below = relative(first, target).split(sep).filter(Boolean);
  await fs.promises.chmod(folder, 0o700);
  for (const name of below) {
    folder = join(folder, name);
    await fs.promises.chmod(folder, 0o700);
  }
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  ENAMETOOLONG: 'the path is too long',
};

async function describeFailure(fs: FileSystem, target: string, error: unknown): Promise<KeyupError> {
  const code = getErrorCode(error);
  const blocker = code === 'EEXIST' || code === 'ENOTDIR' || code === 'ENOENT' ? await findBlocker(fs, target, code) : undefined;
  if (blocker !== undefined) {
    return new KeyupError(`Cannot make the folder ${target}: ${blocker} is in the way and is not a folder.`, {
      hint: `Move ${blocker} away, or choose another path.`,
      code: 'state',
      cause: error,
    });
  }
  const reason = REASONS[code ?? ''] ?? (error instanceof Error ? error.message : String(error));
  return new KeyupError(`Cannot make the folder ${target}: ${reason}.`, { hint: 'Check the path and the permissions of the folders above it.', code: 'state', cause: error });
}

/**
 * The lowest of `target` and its parents that exists. After mkdir -p failed with EEXIST or
 * ENOTDIR it is what stands where a folder should be; after ENOENT it is so only when it is a
 * symlink to nowhere.
 */
async function findBlocker(fs: FileSystem, target: string, code: string): Promise<string | undefined> {
  for (let path = target; ; path = dirname(path)) {
    try {
      const stats = await fs.promises.lstat(path);
      return code !== 'ENOENT' || stats.isSymbolicLink() ? path : undefined;
    } catch {
      if (dirname(path) === path) return undefined;
    }
  }
}
