import { KeyupError, type KeyupErrorInit } from '../errors.js';
import { ENV_CONFIG_FILE, ENV_CREDENTIALS_FILE } from '../paths.js';
import { getErrorCode } from '../fs/fs.js';
import { EKEYUP_NOT_A_FILE, EKEYUP_TOO_LARGE } from '../fs/read-file.js';

/** The two AWS files keyup reads; only the credentials file is ever written. */
export type AwsFile = 'credentials' | 'config';

const LABELS: Record<AwsFile, { name: string; env: string }> = {
  credentials: { name: 'AWS credentials file', env: ENV_CREDENTIALS_FILE },
  config: { name: 'AWS config file', env: ENV_CONFIG_FILE },
};

/** Every error about the AWS files carries the same code. */
function createFileError(message: string, init: Omit<KeyupErrorInit, 'code'> = {}): KeyupError {
  return new KeyupError(message, { ...init, code: 'credentials-file' });
}

export function createMissingFileError(kind: AwsFile, file: string, danglingLink: boolean): KeyupError {
  const { name, env } = LABELS[kind];
  return danglingLink
    ? createFileError(`The ${name} ${file} is a link to a file that does not exist.`, { hint: `Point the link at your ${name}, or set ${env} to it.` })
    : createFileError(`The ${name} ${file} does not exist.`, { hint: `Create it with "aws configure", or set ${env} to the file that holds your keys.` });
}

export function createEmptyFileError(kind: AwsFile, file: string): KeyupError {
  const { name, env } = LABELS[kind];
  return createFileError(`The ${name} ${file} is empty.`, { hint: `Add your access key with "aws configure", or set ${env} to the file that holds it.` });
}

export function createNotAFileError(kind: AwsFile, file: string): KeyupError {
  const { name, env } = LABELS[kind];
  return createFileError(`The ${name} ${file} is not a regular file.`, { hint: `Set ${env} to the file itself.` });
}

/** For an error thrown while reading: one sentence that says what is wrong, and the fix. */
export function createReadError(kind: AwsFile, file: string, cause: unknown): KeyupError {
  const { name } = LABELS[kind];
  const code = getErrorCode(cause);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return createFileError(`keyup is not allowed to read the ${name} ${file}.`, {
        hint: `Give your user read and write access to it (chmod 600 ${file}) and to its folder.`,
        cause,
      });
    case 'EISDIR':
    case EKEYUP_NOT_A_FILE:
      return createNotAFileError(kind, file);
    case EKEYUP_TOO_LARGE:
      return createFileError(`The ${name} ${file} is larger than any AWS file keyup expects.`, {
        hint: `Check that it is really your ${name}, or set ${LABELS[kind].env} to the right file.`,
        cause,
      });
    case 'ELOOP':
      return createFileError(`The ${name} ${file} is a link that leads back to itself.`, { hint: 'Point the link at the real file.', cause });
    default:
      return createFileError(`keyup could not read the ${name} ${file}${code === undefined ? '' : ` (${code})`}.`, {
        hint: 'Check the file and its folder, then try again.',
        cause,
      });
  }
}

/** For a failed rewrite that never reached the rename: the file is as it was. */
export function createWriteError(kind: AwsFile, file: string, cause: unknown): KeyupError {
  const code = getErrorCode(cause);
  return createFileError(`keyup could not write the ${LABELS[kind].name} ${file}${code === undefined ? '' : ` (${code})`}, so it left it as it was.`, {
    hint: 'Check the free space and that you may write to its folder, then try again.',
    cause,
  });
}

/** For a rewrite that is in place but may not survive a power cut. */
export function createFlushError(kind: AwsFile, file: string, cause: unknown): KeyupError {
  const code = getErrorCode(cause instanceof Error ? cause.cause : cause);
  return createFileError(`keyup rewrote the ${LABELS[kind].name} ${file} but could not flush its folder to disk${code === undefined ? '' : ` (${code})`}.`, {
    hint: 'Check the disk; the file holds the new key.',
    cause,
  });
}

export function createBackupError(folder: string, cause: unknown): KeyupError {
  const code = getErrorCode(cause);
  return createFileError(`keyup could not save a backup of the AWS credentials file in ${folder}${code === undefined ? '' : ` (${code})`}, so it left the file as it was.`, {
    hint: 'Check that folder, or set backup = false in the keyup config.',
    cause,
  });
}
