/**
 * keyupctl as one CommonJS file: its start-up is most of what a person waits for, and a bundle
 * that Node loads without its ES module loader and without resolving a graph of files starts
 * about 30 ms sooner (1.2× a bare `node -e 0` instead of 1.4×, measured by `npm run bench`).
 *
 * Usage: node tools/bundle-keyupctl.mjs [DIST]  (default: dist, as `npm run build` makes it)
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import process from 'node:process';

const dist = process.argv[2] ?? 'dist';
await build({
  entryPoints: [join(dist, 'src', 'bin', 'keyupctl.js')],
  outfile: join(dist, 'src', 'bin', 'keyupctl.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20.19',
  // A module's own URL, which CommonJS does not have: what import.meta.url would have said.
  // The entry's own #! line is kept by esbuild.
  banner: { js: 'const __keyupModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { 'import.meta.url': '__keyupModuleUrl' },
  logLevel: 'warning',
});
