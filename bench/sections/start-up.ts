/**
 * How long a program takes to start and finish, against Node starting and doing nothing. The
 * place for `keyupctl status` once it exists.
 */
import { figure, ratioTo, type SectionResult } from '../figures.js';
import { cleanEnv, KEYUPD, runNode, withTempDir } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

const RUNS = 10;

export const startUpSection: Section = {
  title: 'Start-up',
  async run(context: BenchContext): Promise<SectionResult> {
    return withTempDir('keyup-bench-start-', async (home) => {
      const env = cleanEnv(home);
      const node: number[] = [];
      const help: number[] = [];
      context.progress(`keyupd --help and node -e 0, ${RUNS} times each, interleaved`);
      // Interleaved, so that a busy moment of the machine weighs on both alike.
      for (let run = 0; run < RUNS + 1; run++) {
        const bare = await runNode(['-e', '0'], { env });
        const keyupd = await runNode([KEYUPD, '--help'], { env });
        if (keyupd.code !== 0) throw new Error(`keyupd --help failed (exit ${keyupd.code}): ${keyupd.stderr}`);
        // The first of each loads the files from disk into the page cache.
        if (run === 0) continue;
        node.push(bare.wallMs);
        help.push(keyupd.wallMs);
      }
      return {
        title: this.title,
        figures: [figure('keyupd --help', 'ms', help, ratioTo(help, node, 'node -e 0')), figure('node -e 0', 'ms', node, { against: 'the yardstick' })],
        notes: [`Start-up: wall time from spawn to exit of dist/src/bin/keyupd.js --help and of node -e 0, taking turns, ${RUNS} runs each after one untimed, HOME an empty temp folder.`],
      };
    });
  },
};
