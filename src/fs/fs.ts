import type { promises } from 'node:fs';

/**
 * The file system as keyup uses it: `node:fs/promises`, or memfs's `fs.promises` in unit
 * tests. Passed in, never imported by the core.
 */
export type FsPromises = typeof promises;

export function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
