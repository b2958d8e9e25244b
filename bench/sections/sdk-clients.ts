/** bench/sdk-calls.ts's figures, in a process of its own: it sets HOME and AWS_* for the SDK. */
import { join } from 'node:path';
import type { SectionResult } from '../figures.js';
import { BENCH_DIR, cleanEnv, parseChildJson, runNode, withTempDir } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

export const sdkClientsSection: Section = {
  title: 'AWS SDK clients',
  async run(context: BenchContext): Promise<SectionResult> {
    context.progress('bench/sdk-calls.ts in its own process');
    return withTempDir('keyup-bench-sdk-home-', async (home) => {
      const run = await runNode(['--expose-gc', join(BENCH_DIR, 'sdk-calls.js'), '--json'], { env: cleanEnv(home) });
      return parseChildJson<SectionResult>(run, 'bench/sdk-calls.ts');
    });
  },
};
