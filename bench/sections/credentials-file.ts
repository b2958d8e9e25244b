/**
 * keyup's own work on the credentials file: parsing and classifying it, editing one key in
 * memory, and rewriting a large file on disk against what any atomic writer must do.
 */
import * as nodeFs from 'node:fs';
import { open, readFile, realpath, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { replaceAccessKey } from '../../src/credentials/edit.js';
import { parseIni } from '../../src/credentials/parse.js';
import { listProfiles } from '../../src/credentials/profiles.js';
import { CredentialsStore } from '../../src/credentials/store.js';
import { fakeKeyId, makeCredentialsFile } from '../fixtures.js';
import { figure, ratioTo, type SectionResult } from '../figures.js';
import { withTempDir } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

const NEW_KEY = { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'n'.repeat(40) };
const REWRITE_PROFILES = 1_000;
const REWRITE_RUNS = 30;
const REWRITE_WARMUP = 3;

function time(runs: number, work: () => void): number[] {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return times;
}

async function timeAsync(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

export const credentialsFileSection: Section = {
  title: 'The credentials file',
  async run(context: BenchContext): Promise<SectionResult> {
    const figures = [];
    for (const profiles of [10, 1_000]) {
      context.progress(`parse and edit, ${profiles} profiles`);
      const text = makeCredentialsFile(profiles);
      const runs = profiles > 100 ? 50 : 500;
      figures.push(figure(`parse + classify, ${profiles} profiles (${(text.length / 1024).toFixed(0)} KiB)`, 'ms', time(runs, () => listProfiles(parseIni(text, 'credentials')))));
      const document = parseIni(text, 'credentials');
      const target = fakeKeyId(Math.floor(profiles / 2));
      figures.push(figure(`replace one key in memory, ${profiles} profiles`, 'ms', time(runs, () => replaceAccessKey(document, target, NEW_KEY))));
    }
    context.progress(`rewrite a ${REWRITE_PROFILES}-profile file on disk, ${REWRITE_RUNS} times each way`);
    const rewrite = await measureRewrite();
    figures.push(figure(`CredentialsStore.replaceKey, ${REWRITE_PROFILES} profiles, on disk`, 'ms', rewrite.store, ratioTo(rewrite.store, rewrite.copy, 'a plain atomic copy')));
    figures.push(figure(`plain atomic copy of the same file`, 'ms', rewrite.copy, { against: 'read + write temp + fsync + rename' }));
    return {
      title: this.title,
      figures,
      notes: [
        `replaceKey: a real temp folder, backups off, no AWS config file, one key in the middle of ${REWRITE_PROFILES} profiles swapped back and forth (${REWRITE_WARMUP} untimed first); the plain copy, interleaved with it, reads the file, writes a temp file beside it, fsyncs and renames it over. replaceKey also removes leftover temp files, checks the file did not change under it (stat + read again) and fsyncs the folder.`,
      ],
    };
  },
};

async function measureRewrite(): Promise<{ store: number[]; copy: number[] }> {
  return withTempDir('keyup-bench-rewrite-', async (raw) => {
    // The store writes through links to the real file; /tmp may be one.
    const dir = await realpath(raw);
    const file = join(dir, 'credentials');
    await writeFile(file, makeCredentialsFile(REWRITE_PROFILES), { mode: 0o600 });
    const store = new CredentialsStore({ fs: nodeFs, paths: { credentialsFile: file, awsConfigFile: join(dir, 'config'), stateDir: join(dir, 'state') }, backup: false });
    let current = fakeKeyId(REWRITE_PROFILES / 2);
    const replaceOnce = async () => {
      const next = current === NEW_KEY.accessKeyId ? { accessKeyId: fakeKeyId(REWRITE_PROFILES / 2), secretAccessKey: 's'.repeat(40) } : NEW_KEY;
      const result = await store.replaceKey(current, next);
      if (result.changed.length !== 1) throw new Error(`replaceKey changed ${result.changed.length} profiles, not 1`);
      current = next.accessKeyId;
    };
    const samples = { store: [] as number[], copy: [] as number[] };
    for (let run = 0; run < REWRITE_WARMUP + REWRITE_RUNS; run++) {
      const store = await timeAsync(replaceOnce);
      const copy = await timeAsync(() => copyAtomically(file));
      if (run >= REWRITE_WARMUP) {
        samples.store.push(store);
        samples.copy.push(copy);
      }
    }
    return samples;
  });
}

/** What any atomic writer of the file must do at the least. */
async function copyAtomically(file: string): Promise<void> {
  const bytes = await readFile(file);
  const temp = `${file}.copy.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
