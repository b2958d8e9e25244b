/**
 * What keeping AWS clients for a check saves. Figures, not pass/fail. The emulator runs in its
 * own process, so the CPU time measured here is keyup's side alone: the SDK building clients,
 * parsing AWS files, signing, parsing answers. The old way is measured with a one-profile and with
 * 1,000-profile AWS files, which the SDK then parsed for every client.
 *
 * Part of `npm run bench`, which runs this file in a process of its own (it points HOME and the
 * AWS_* variables at files of its own for the SDK to read) with `--expose-gc --json`. Alone:
 * `npm run build && node --expose-gc dist/bench/sdk-calls.js` prints its part of the table.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentials, CallContext } from '../src/aws/key-api.js';
import { createSdkKeyApi } from '../src/aws/sdk-key-api.js';
import { figure, formatTable, ratioTo, type Figure, type SectionResult } from './figures.js';
import { startEmulatorProcess, withTempDir } from './processes.js';

const SDK_CALLS_TITLE = 'AWS SDK clients: GetCallerIdentity and ListAccessKeys in turn';
const ROUNDS = 5;
/** Enough calls a round to average out one call's noise; fewer where a call costs ~80 ms. */
const CALLS_PER_KIND = 50;
const SLOW_CALLS_PER_KIND = 10;
/** Memory is looked at after this many rounds of 500 + 500 calls, each ending in release(). */
const MEMORY_CYCLES = 3;

/** The two calls every check makes, whoever makes the clients. */
interface Caller {
  getCallerIdentity(ctx: CallContext): Promise<unknown>;
  listAccessKeys(ctx: CallContext): Promise<unknown>;
  release(): void;
}

/**
 * keyup before this change: a new client per call, configured as it was, so the SDK resolves
 * the rest of its settings from the environment and the AWS files, as it did then.
 */
function perCallClients(): Caller {
  const config = (ctx: CallContext) => ({
    region: ctx.region ?? 'us-east-1',
    credentials: { ...ctx.credentials },
    maxAttempts: 1,
    requestHandler: { requestTimeout: 15_000, connectionTimeout: 5_000, throwOnRequestTimeout: true },
  });
  return {
    async getCallerIdentity(ctx) {
      const client = new STSClient(config(ctx));
      try {
        return await client.send(new GetCallerIdentityCommand({}));
      } finally {
        client.destroy();
      }
    },
    async listAccessKeys(ctx) {
      const client = new IAMClient(config(ctx));
      try {
        return await client.send(new ListAccessKeysCommand({}));
      } finally {
        client.destroy();
      }
    },
    release() {},
  };
}

/** Today's KeyApi, released after every call: new clients each time, but no AWS file read. */
function releasedEveryCall(): Caller {
  const api = createSdkKeyApi();
  return {
    getCallerIdentity: (ctx) => api.getCallerIdentity(ctx).finally(() => api.release()),
    listAccessKeys: (ctx) => api.listAccessKeys(ctx).finally(() => api.release()),
    release: () => api.release(),
  };
}

async function run(caller: Caller, ctx: CallContext, perKind: number): Promise<{ wallMs: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let index = 0; index < perKind; index++) {
    await caller.getCallerIdentity(ctx);
    await caller.listAccessKeys(ctx);
  }
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  caller.release();
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

const gc = (globalThis as { gc?: () => void }).gc;

/** RSS and heap used, in MiB, after a full collection when --expose-gc allows one. */
function memory(): { rss: number; heapUsed: number } {
  gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss / 1024 / 1024, heapUsed: heapUsed / 1024 / 1024 };
}

/** Sets HOME and the AWS_* variables of this process: run it in a process of its own. */
async function measureSdkCalls(progress: (text: string) => void = () => {}): Promise<SectionResult> {
  return withTempDir('keyup-bench-sdk-', async (home) => {
    const emulator = await startEmulatorProcess(home);
    try {
      const profile = (index: number) => `aws_access_key_id = AKIA${String(index).padStart(16, '0')}\naws_secret_access_key = ${'s'.repeat(40)}\nregion = eu-west-1\n`;
      const indexes = Array.from({ length: 1_000 }, (_, index) => index);
      await writeFile(join(home, 'credentials-large'), indexes.map((index) => `[profile-${index}]\n${profile(index)}`).join('\n'), { mode: 0o600 });
      await writeFile(join(home, 'config-large'), indexes.map((index) => `[profile profile-${index}]\n${profile(index)}`).join('\n'), { mode: 0o600 });
      await writeFile(join(home, 'credentials-small'), `[default]\n${profile(0)}`, { mode: 0o600 });
      await writeFile(join(home, 'config-small'), '[default]\nregion = eu-west-1\n', { mode: 0o600 });
      const large = { AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials-large'), AWS_CONFIG_FILE: join(home, 'config-large') };
      const small = { AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials-small'), AWS_CONFIG_FILE: join(home, 'config-small') };
      // Where the old per-call clients looked, and where keyupd finds its endpoints.
      Object.assign(process.env, { HOME: home, ...emulator.awsEnv });
      await emulator.control.createUser({ userName: 'alice' });
      const key = await emulator.control.createAccessKey({ userName: 'alice' });
      const credentials: AwsCredentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
      const ctx: CallContext = { credentials };

      // Memory first, before the old way's clients have left their garbage and the SDK's copy of
      // the AWS files behind.
      progress(`memory: ${MEMORY_CYCLES} × 1,000 calls on kept clients`);
      await run(createSdkKeyApi(), ctx, 5);
      const before = { rss: [] as number[], heapUsed: [] as number[] };
      const after = { rss: [] as number[], heapUsed: [] as number[] };
      const released = { rss: [] as number[], heapUsed: [] as number[] };
      const keep = (into: typeof before, { rss, heapUsed }: { rss: number; heapUsed: number }) => {
        into.rss.push(rss);
        into.heapUsed.push(heapUsed);
      };
      let kept = 0;
      let left = 0;
      for (let cycle = 0; cycle < MEMORY_CYCLES; cycle++) {
        keep(before, memory());
        const api = createSdkKeyApi();
        for (let index = 0; index < 500; index++) {
          await api.getCallerIdentity(ctx);
          await api.listAccessKeys(ctx);
        }
        keep(after, memory());
        kept = api.cachedClientCount();
        api.release();
        // Sockets finish closing on the next turns of the event loop.
        await new Promise((resolve) => setTimeout(resolve, 100));
        keep(released, memory());
        left = api.cachedClientCount();
      }

      const scenarios: [string, string, () => Caller, number][] = [
        ['a client per call, 1-profile AWS files (before)', 'small', perCallClients, CALLS_PER_KIND],
        ['a client per call, 1,000-profile AWS files (before)', 'large', perCallClients, SLOW_CALLS_PER_KIND],
        ['a client per call, no AWS file read', 'large', releasedEveryCall, CALLS_PER_KIND],
        ['clients kept for the check (now)', 'large', () => createSdkKeyApi(), CALLS_PER_KIND],
      ];
      const measured: { name: string; cpuMs: number[]; wallMs: number[] }[] = [];
      for (const [name, files, make, perKind] of scenarios) {
        progress(`${name}: ${ROUNDS} rounds of ${perKind} + ${perKind} calls`);
        Object.assign(process.env, files === 'large' ? large : small);
        // One untimed round first: module loading and JIT warm-up are not what is measured.
        await run(make(), ctx, 5);
        const rounds: { wallMs: number; cpuMs: number }[] = [];
        for (let round = 0; round < ROUNDS; round++) rounds.push(await run(make(), ctx, perKind));
        measured.push({ name, cpuMs: rounds.map((r) => r.cpuMs / (2 * perKind)), wallMs: rounds.map((r) => r.wallMs / (2 * perKind)) });
      }
      const now = measured.at(-1) as (typeof measured)[number];
      const perCall = (kind: 'cpuMs' | 'wallMs', label: string): Figure[] =>
        measured.map((scenario) => figure(`${label} a call: ${scenario.name}`, 'ms', scenario[kind], scenario === now ? { against: 'the yardstick' } : ratioTo(scenario[kind], now[kind], 'clients kept')));
      const figures: Figure[] = [
        ...perCall('cpuMs', 'CPU'),
        ...perCall('wallMs', 'wall'),
        figure('heap used before 1,000 calls (warmed up)', 'MiB', before.heapUsed),
        figure(`heap used after 1,000 calls, ${kept} clients kept`, 'MiB', after.heapUsed, ratioTo(after.heapUsed, before.heapUsed, 'before')),
        figure(`heap used after release(), ${left} clients kept`, 'MiB', released.heapUsed, ratioTo(released.heapUsed, before.heapUsed, 'before')),
        figure('RSS before 1,000 calls (warmed up)', 'MiB', before.rss),
        figure(`RSS after 1,000 calls, ${kept} clients kept`, 'MiB', after.rss, ratioTo(after.rss, before.rss, 'before')),
        figure(`RSS after release(), ${left} clients kept`, 'MiB', released.rss, ratioTo(released.rss, before.rss, 'before')),
      ];
      return {
        title: SDK_CALLS_TITLE,
        figures,
        notes: [
          `SDK clients: one process of its own, the emulator in another; each way ${ROUNDS} rounds of GetCallerIdentity and ListAccessKeys in turn (${SLOW_CALLS_PER_KIND} + ${SLOW_CALLS_PER_KIND} calls a round with 1,000-profile AWS files, ${CALLS_PER_KIND} + ${CALLS_PER_KIND} otherwise) after one untimed; the figure is a round's time over its calls. Memory: ${MEMORY_CYCLES} cycles of 500 + 500 calls on one KeyApi, then release()${gc === undefined ? '; run with node --expose-gc for figures after a full collection' : ', each figure after a full collection (--expose-gc)'}.`,
        ],
      };
    } finally {
      await emulator.stop();
    }
  });
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const result = await measureSdkCalls((text) => process.stderr.write(`sdk-calls: ${text}\n`));
console.log(process.argv.includes('--json') ? JSON.stringify(result) : formatTable([result]));
