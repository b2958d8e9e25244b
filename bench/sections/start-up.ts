/**
 * How long a program takes to start and finish, against Node starting and doing nothing:
 * `keyupctl status` (issue 10: within 1.3× of `node -e 0`) asking a real keyupd, `keyupctl
 * --version`, and `keyupd --help`.
 */
import { join } from 'node:path';
import { startDaemon } from '../daemon.js';
import { figure, ratioTo, type SectionResult } from '../figures.js';
import { cleanEnv, KEYUPCTL, KEYUPCTL_BIN, KEYUPCTL_MODULES, KEYUPD, runNode, startEmulatorProcess, withTempDir, type NodeRun } from '../processes.js';
import type { BenchContext, Section } from '../section.js';

const RUNS = 20;
/** keyupd's profiles: `status` prints a line for each, so more than one. */
const PROFILES = 3;
const STATUS_BUDGET = 1.3;
/**
 * The least any status client in Node does, as a `node -e` script like the yardstick: connect to
 * keyupd's socket, ask `status`, print the answer's line. What keyupctl status costs beyond it is
 * keyupctl's own; what this costs beyond `node -e 0` is Node's sockets and stdout, and keyupd.
 */
const LEAST_CLIENT = [
  "const socket = require('node:net').createConnection(process.env.XDG_RUNTIME_DIR + '/keyup/keyupd.sock');",
  "let answer = '';",
  "socket.setEncoding('utf8');",
  `socket.on('connect', () => socket.write('{"jsonrpc":"2.0","id":1,"method":"status"}\\n'));`,
  "socket.on('data', (chunk) => { answer += chunk; if (answer.includes('\\n')) { process.stdout.write(answer); socket.end(); } });",
].join(' ');

export const startUpSection: Section = {
  title: 'Start-up',
  async run(context: BenchContext): Promise<SectionResult> {
    return withTempDir('keyup-bench-start-', async (dir) => {
      const emulator = await startEmulatorProcess(dir);
      try {
        context.progress(`a keyupd managing ${PROFILES} profiles, nothing due`);
        const home = join(dir, 'daemon');
        const daemon = await startDaemon({ home, emulator, profiles: PROFILES, userPrefix: 'start-' });
        try {
          return await measure(dir, daemon.ctlEnv, daemon.profiles, context, this.title);
        } finally {
          await daemon.stop();
        }
      } finally {
        await emulator.stop();
      }
    });
  },
};

async function measure(dir: string, ctlEnv: Record<string, string>, profiles: readonly string[], context: BenchContext, title: string): Promise<SectionResult> {
  const env = cleanEnv(dir);
  const samples = { node: [] as number[], least: [] as number[], status: [] as number[], modules: [] as number[], version: [] as number[], help: [] as number[] };
  context.progress(`node -e 0, the least status client, keyupctl status (bundle and ES modules), keyupctl --version and keyupd --help, ${RUNS} times each, interleaved`);
  // Interleaved, so that a busy moment of the machine weighs on all alike.
  for (let run = 0; run < RUNS + 1; run++) {
    const bare = await runNode(['-e', '0'], { env });
    const least = expectStatus(await runNode(['-e', LEAST_CLIENT], { env: ctlEnv }), profiles);
    const status = expectStatus(await runNode([KEYUPCTL, 'status'], { env: ctlEnv }), profiles);
    const modules = expectStatus(await runNode([KEYUPCTL_MODULES, 'status'], { env: ctlEnv }), profiles);
    const version = expectOk(await runNode([KEYUPCTL, '--version'], { env }), 'keyupctl --version');
    const help = expectOk(await runNode([KEYUPD, '--help'], { env }), 'keyupd --help');
    // The first of each loads the files from disk into the page cache.
    if (run === 0) continue;
    samples.node.push(bare.wallMs);
    samples.least.push(least.wallMs);
    samples.status.push(status.wallMs);
    samples.modules.push(modules.wallMs);
    samples.version.push(version.wallMs);
    samples.help.push(help.wallMs);
  }
  return {
    title,
    figures: [
      figure(`keyupctl status (keyupd running, ${profiles.length} profiles)`, 'ms', samples.status, ratioTo(samples.status, samples.node, `node -e 0 (budget ≤ ${STATUS_BUDGET}×)`)),
      figure('the least status client (node -e: connect, ask, print)', 'ms', samples.least, ratioTo(samples.least, samples.node, 'node -e 0')),
      figure('keyupctl status, its ES modules unbundled', 'ms', samples.modules, ratioTo(samples.modules, samples.node, 'node -e 0')),
      figure('keyupctl --version (no keyupd needed)', 'ms', samples.version, ratioTo(samples.version, samples.node, 'node -e 0')),
      figure('keyupd --help', 'ms', samples.help, ratioTo(samples.help, samples.node, 'node -e 0')),
      figure('node -e 0', 'ms', samples.node, { against: 'the yardstick' }),
    ],
    notes: [
      `Start-up: wall time from spawn to exit, taking turns, ${RUNS} runs each after one untimed. keyupctl is what package.json's bin names (${KEYUPCTL_BIN}, one CommonJS bundle); "ES modules unbundled" is dist/src/bin/keyupctl.js, which the bundle is made from. keyupctl status asks a real keyupd (its own process, started before and idle: its ${profiles.length} profiles' keys are 10 days old) in a temp HOME, over its socket in $XDG_RUNTIME_DIR, the emulator in a third process; the time includes keyupd's answer. The least status client is a node -e script of five statements that connects to the same socket, sends the status request and prints the answer's line: the floor for any client written for Node. The others run with HOME an empty temp folder. Under load the ratios shrink towards 1 (node -e 0 itself slows most), so compare them at a similar load average.`,
    ],
  };
}

/** A status that listed every profile. */
function expectStatus(run: NodeRun, profiles: readonly string[]): NodeRun {
  expectOk(run, 'status');
  const missing = profiles.filter((profile) => !run.stdout.includes(profile));
  if (missing.length > 0) throw new Error(`keyupctl status did not list ${missing.join(', ')}:\n${run.stdout}`);
  return run;
}

function expectOk(run: NodeRun, what: string): NodeRun {
  if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}):\n${run.stderr}${run.stdout}`);
  return run;
}
