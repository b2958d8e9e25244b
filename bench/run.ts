/**
 * `npm run bench` (after `npm run build`): figures for people to read and compare, not tests;
 * nothing is asserted. One table on stdout at the end, the same figures with every sample in
 * `bench-results.json` in the current folder, progress on stderr while it runs (a few minutes).
 *
 * Each section starts what it needs and stops it before the next one, so sections can be added
 * on their own. `npm run bench -- idle start` runs only the sections whose title has one of the words.
 */
import { statfsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { formatTable, toJson, type SectionResult } from './figures.js';
import type { Section } from './section.js';
import { credentialsFileSection } from './sections/credentials-file.js';
import { fleetSection } from './sections/fleet.js';
import { idleSection } from './sections/idle.js';
import { rotationSection } from './sections/rotation.js';
import { sdkClientsSection } from './sections/sdk-clients.js';
import { startUpSection } from './sections/start-up.js';

const RESULTS_FILE = 'bench-results.json';

// Cheapest first, so that a broken build shows early; the idle daemon's minute and the
// 200-profile runs last.
const SECTIONS: readonly Section[] = [startUpSection, credentialsFileSection, rotationSection, sdkClientsSection, idleSection, fleetSection];

async function main(): Promise<void> {
  const started = performance.now();
  // Others' work on the machine slows wall times most: worth knowing when comparing two tables.
  const load = loadavg()[0] ?? 0;
  const only = process.argv.slice(2);
  const results: SectionResult[] = [];
  for (const section of SECTIONS) {
    if (only.length > 0 && !only.some((word) => section.title.toLowerCase().includes(word.toLowerCase()))) continue;
    const sectionStart = performance.now();
    process.stderr.write(`bench: ${section.title}\n`);
    results.push(await section.run({ progress: (text) => process.stderr.write(`bench:   ${text}\n`) }));
    process.stderr.write(`bench:   (${((performance.now() - sectionStart) / 1000).toFixed(1)} s)\n`);
  }
  const machine = {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpus: availableParallelism(),
    // fsync costs nothing on tmpfs: whoever compares file figures needs to know.
    tmpdir: `${tmpdir()} (${describeFileSystem(tmpdir())})`,
    loadAverage: { atStart: load, atEnd: loadavg()[0] ?? 0 },
  };
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `keyup benchmarks: Node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs, load average ${load.toFixed(1)} at start and ${machine.loadAverage.atEnd.toFixed(1)} at end, temp folder ${machine.tmpdir}; ${seconds.toFixed(0)} s\n`,
  );
  console.log(formatTable(results));
  await writeFile(RESULTS_FILE, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds, sections: toJson(results) }, null, 2)}\n`);
  console.log(`\nThe same figures, with every sample: ${RESULTS_FILE}`);
}

function describeFileSystem(path: string): string {
  // The magic numbers of the two that change file figures most.
  const types: Record<number, string> = { 0x01021994: 'tmpfs', 0xef53: 'ext4', 0x9123683e: 'btrfs', 0x58465342: 'xfs', 0x794c7630: 'overlayfs' };
  try {
    const { type } = statfsSync(path);
    return types[type] ?? `file system type 0x${type.toString(16)}`;
  } catch {
    return 'file system unknown';
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await main();
