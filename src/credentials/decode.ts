import { FileFormatError } from '../errors.js';

/** The byte-order mark some Windows editors put first; kept as U+FEFF so a rewrite keeps it. */
export const BOM = '\ufeff';

/**
 * Decodes a file's bytes as UTF-8, keeping a byte-order mark as its own character so that
 * encoding the text again gives back the same bytes. botocore fails on bytes that are not
 * UTF-8; so does this, naming the line of the first bad byte.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    const line = countLineAt(bytes, findFirstBadByte(bytes));
    throw new FileFormatError(file, line, 'this line is not valid UTF-8 text', { hint: 'Save the file as UTF-8 and try again.', cause: error });
  }
}

/** Whether `length` bytes from the start decode, allowing a character cut off at the end. */
function isValidPrefix(bytes: Uint8Array, length: number): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, length), { stream: true });
    return true;
  } catch {
    return false;
  }
}

function findFirstBadByte(bytes: Uint8Array): number {
  if (isValidPrefix(bytes, bytes.length)) return Math.max(0, bytes.length - 1);
  // A bad byte spoils every longer prefix, so the longest good prefix ends where it is.
  let good = 0;
  let bad = bytes.length;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (isValidPrefix(bytes, middle)) good = middle;
    else bad = middle;
  }
  return good;
}

function countLineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i += 1) {
    const byte = bytes[i];
    if (byte === 0x0a || (byte === 0x0d && bytes[i + 1] !== 0x0a)) line += 1;
  }
  return line;
}
