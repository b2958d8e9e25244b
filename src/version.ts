import { readFileSync } from 'node:fs';

/**
 * keyup's version, from its package.json (two folders up from this module, both in the clone's
 * dist/src and in an installed package). Read when asked, not at import.
 */
export function readVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
