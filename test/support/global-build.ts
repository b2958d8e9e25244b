import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The project compiled from the current sources, for tests that run real processes. */
    buildDir: string;
  }
}

/**
 * Compiles the project once per test run, so that child-process tests run today's code and not
 * whatever `dist/` last held. Inside node_modules/.cache so the output resolves the packages.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  // <tmp>/dist with <tmp>/package.json beside it, as in a clone or an installed package, where
  // readVersion() finds it.
  const root = mkdtempSync(join(cache, 'keyup-test-build-'));
  const buildDir = join(root, 'dist');
  await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.json'), '--outDir', buildDir, '--sourceMap', 'false'], { cwd: ROOT });
  // keyupctl ships as a bundle made from that build, as `npm run build` makes it.
  await promisify(execFile)(process.execPath, [join(ROOT, 'tools', 'bundle-keyupctl.mjs'), buildDir], { cwd: ROOT });
  copyFileSync(join(ROOT, 'package.json'), join(root, 'package.json'));
  project.provide('buildDir', buildDir);
  return () => rmSync(root, { recursive: true, force: true });
}
