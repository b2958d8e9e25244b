import { getErrorCode } from './fs.js';

/** What an OS error code means to a person; the code stays beside it for searching. */
const MEANINGS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'the disk quota is used up',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  EBUSY: 'the file is busy or mounted over',
  EXDEV: 'the file is mounted over or on another file system',
  ENAMETOOLONG: 'a file name is too long',
  ENOENT: 'a folder on the way does not exist',
  ENOTDIR: 'part of the path is a file, not a folder',
  EISDIR: 'a folder is in the way',
  EIO: 'the disk reported an input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files on the system',
};

/** "no space left on the disk, ENOSPC": the words for a person, the code for a search. */
export function describeFsError(error: unknown): string {
  const code = getErrorCode(error);
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const meaning = MEANINGS[code];
  return meaning === undefined ? code : `${meaning}, ${code}`;
}
