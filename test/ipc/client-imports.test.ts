import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

/**
 * Every module loading `file` loads, read from the compiled output (where type-only imports are
 * gone, and where what remains is what Node will load).
 */
function collectImports(file: string): { local: Set<string>; external: Set<string> } {
  const local = new Set<string>();
  const external = new Set<string>();
  const visit = (path: string) => {
    if (local.has(path)) return;
    local.add(path);
    const source = readFileSync(path, 'utf8');
    for (const match of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith('.')) visit(resolve(dirname(path), specifier));
      else external.add(specifier);
    }
  };
  visit(file);
  return { local, external };
}

describe('the client keyupctl loads', () => {
  // keyupctl's start-up budget is tight: no logger, no AWS SDK, no yargs, not even a sibling that
  // would bring one in later.
  it('loads node:net and keyup’s own small modules, nothing else', () => {
    const src = join(inject('buildDir'), 'src');
    const { local, external } = collectImports(join(src, 'ipc', 'client.js'));
    expect([...external]).toEqual(['node:net']);
    expect([...local].map((path) => relative(src, path)).sort()).toEqual(['errors.js', 'ipc/client.js', 'ipc/framing.js', 'ipc/protocol.js', 'ipc/socket-path.js']);
  });
});
