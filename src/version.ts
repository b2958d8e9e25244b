import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * keyup's version, from the package.json of the folder this module is in or above it (dist/src in
 * a clone or an installed package; dist/src/bin for the keyupctl bundle). Read when asked.
 */
export function readVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (name === 'keyup' && typeof version === 'string') return version;
    } catch {
      // Not here: look further up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}
