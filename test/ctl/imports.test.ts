import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';

interface Graph {
  /** keyup's own modules, relative to dist/src. */
  readonly local: Set<string>;
  /** Packages and Node built-ins. */
  readonly external: Set<string>;
}

/**
 * The modules the built `file` loads, read from the compiled output (type-only imports are gone
 * there): `static` is what Node loads before keyupctl runs a line; `dynamic` adds what an
 * `import()` may load later (the service installer, the MFA prompt).
 */
function collectImports(file: string, root: string): { static: Graph; dynamic: Graph } {
  const walk = (followDynamic: boolean): Graph => {
    const local = new Set<string>();
    const external = new Set<string>();
    const visit = (path: string) => {
      const name = relative(root, path);
      if (local.has(name)) return;
      local.add(name);
      const source = readFileSync(path, 'utf8');
      const patterns = [/^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^\s*import\s*['"]([^'"]+)['"]/gm, ...(followDynamic ? [/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g] : [])];
      for (const pattern of patterns) {
        for (const match of source.matchAll(pattern)) {
          const specifier = match[1]!;
          if (specifier.startsWith('.')) visit(resolve(dirname(path), specifier));
          else external.add(specifier);
        }
      }
    };
    visit(file);
    return { local, external };
  };
  return { static: walk(false), dynamic: walk(true) };
}

describe('what the built keyupctl loads', () => {
  const src = join(inject('buildDir'), 'src');
  const graph = collectImports(join(src, 'bin', 'keyupctl.js'), src);

  // Start-up budget: keyupctl status within 1.3× a bare `node -e 0`. yargs alone costs more than
  // that, pino and the AWS SDK far more: none may be loaded, not even by a sibling module later.
  // And on a slow machine each ES module costs a millisecond or two: at start, only the parser,
  // the client and the paths; each command's own modules when it runs.
  it('loads only Node built-ins, the parser, the client and the paths at start', () => {
    expect([...graph.static.external].sort()).toEqual(['node:net', 'node:os', 'node:path', 'node:util']);
    expect([...graph.static.local].sort()).toEqual([
      'bin/keyupctl.js',
      'ctl/args.js',
      'ctl/color.js',
      'ctl/main.js',
      'errors.js',
      'ipc/client.js',
      'ipc/framing.js',
      'ipc/protocol.js',
      'ipc/socket-path.js',
      'paths.js',
    ]);
  });

  it('loads for status only what status shows', () => {
    const status = collectImports(join(src, 'ctl', 'status.js'), src).static.local;
    expect([...status].filter((name) => !graph.static.local.has(name)).sort()).toEqual(['ctl/format.js', 'ctl/replies.js', 'ctl/status.js', 'ctl/table.js', 'present/key-id.js']);
  });

  it('never loads pino, the AWS SDK, yargs, croner or chokidar, even through import()', () => {
    for (const name of graph.dynamic.external) expect(name).not.toMatch(/pino|@aws-sdk|@smithy|yargs|croner|chokidar/);
    for (const name of graph.dynamic.local) expect(name).not.toMatch(/^(log|log-destination|once)\.js$|^(aws|engine|rotation|config|daemon|credentials)\//);
  });

  it('loads the service installer and the MFA prompt only when a command needs them', () => {
    expect(graph.static.local.has('service/install.js')).toBe(false);
    expect(graph.dynamic.local.has('service/install.js')).toBe(true);
    expect(graph.static.external.has('node:readline/promises')).toBe(false);
    expect(graph.dynamic.external.has('node:readline/promises')).toBe(true);
  });

  // What npm installs as keyupctl is that graph bundled into one CommonJS file (tools/
  // bundle-keyupctl.mjs): no third-party code in it at all, and keyupd.js beside it for install.
  it('ships as one CommonJS file with no third-party code, keyupd.js beside it', async () => {
    const { readFile, stat } = await import('node:fs/promises');
    const bundle = await readFile(join(src, 'bin', 'keyupctl.cjs'), 'utf8');
    expect(bundle.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // esbuild names each bundled file in a comment; a package's would be node_modules/<name>/
    // (the test build itself lives under node_modules/.cache).
    expect(bundle).not.toMatch(/node_modules\/(?!\.cache\/)/);
    const required = [...bundle.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
    for (const name of required) expect(name).toMatch(/^node:|^(fs|path|os|net|url|util|crypto|child_process|events|stream|readline)(\/promises)?$/);
    expect((await stat(join(src, 'bin', 'keyupd.js'))).isFile()).toBe(true);
  });
});

