/**
 * `npm run build && node --expose-gc dist/bench/sdk-calls.js`: what keeping AWS clients for a
 * check saves. Figures, not pass/fail. The emulator runs in its own process, so the CPU time
 * measured here is keyup's side alone: the SDK building clients, parsing AWS files, signing,
 * parsing answers. The old way is measured with a one-profile and with 1,000-profile AWS files,
 * which the SDK then parsed for every client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ControlClient } from '../emulator/control-client.js';
import type { AwsCredentials, CallContext } from '../src/aws/key-api.js';
import { createSdkKeyApi } from '../src/aws/sdk-key-api.js';

const EMULATOR = join(dirname(fileURLToPath(import.meta.url)), '..', 'emulator', 'bin', 'keyup-emulator.js');
const CALLS_PER_KIND = 100;
const ROUNDS = 3;

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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function memory(label: string): void {
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`${label.padEnd(58)} rss ${mib(rss).padStart(10)}   heap used ${mib(heapUsed).padStart(9)}`);
}

async function startEmulator(): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [EMULATOR, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    lines.close();
    return { endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, child };
  }
  throw new Error('keyup-emulator exited before it was ready');
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'keyup-bench-sdk-'));
  const { endpoint, child } = await startEmulator();
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
    Object.assign(process.env, { HOME: home, AWS_ENDPOINT_URL_IAM: endpoint, AWS_ENDPOINT_URL_STS: endpoint });
    const control = new ControlClient({ endpoint });
    await control.createUser({ userName: 'alice' });
    const key = await control.createAccessKey({ userName: 'alice' });
    const credentials: AwsCredentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    const ctx: CallContext = { credentials };

    console.log(`keyup SDK calls on Node ${process.version}, ${process.platform}/${process.arch}\n`);
    // Memory first, before the old way's clients have left their garbage and the SDK's copy of
    // the AWS files behind.
    if ((globalThis as { gc?: () => void }).gc === undefined) console.log('(run with node --expose-gc for memory figures after a full collection)');
    await run(createSdkKeyApi(), ctx, 5);
    memory('before 1,000 calls (warmed up)');
    const api = createSdkKeyApi();
    for (let index = 0; index < 500; index++) {
      await api.getCallerIdentity(ctx);
      await api.listAccessKeys(ctx);
    }
    memory(`after 1,000 calls, ${api.cachedClientCount()} clients kept`);
    api.release();
    // Sockets finish closing on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 100));
    memory(`after release(), ${api.cachedClientCount()} clients kept`);

    console.log(`\n${CALLS_PER_KIND} GetCallerIdentity + ${CALLS_PER_KIND} ListAccessKeys, one after the other, median of ${ROUNDS} rounds`);
    const scenarios: [string, string, () => Caller][] = [
      ['a client per call, 1-profile AWS files (before)', 'small', perCallClients],
      ['a client per call, 1,000-profile AWS files (before)', 'large', perCallClients],
      ['a client per call, no AWS file read', 'large', releasedEveryCall],
      ['clients kept for the check (now)', 'large', () => createSdkKeyApi()],
    ];
    for (const [name, files, make] of scenarios) {
      Object.assign(process.env, files === 'large' ? large : small);
      // One untimed round first: module loading and JIT warm-up are not what is measured.
      await run(make(), ctx, 5);
      const rounds: { wallMs: number; cpuMs: number }[] = [];
      for (let round = 0; round < ROUNDS; round++) rounds.push(await run(make(), ctx, CALLS_PER_KIND));
      const wall = median(rounds.map((r) => r.wallMs));
      const cpu = median(rounds.map((r) => r.cpuMs));
      console.log(`${name.padEnd(58)} wall ${wall.toFixed(0).padStart(6)} ms   cpu ${cpu.toFixed(0).padStart(6)} ms   (${(cpu / (2 * CALLS_PER_KIND)).toFixed(2)} ms cpu a call)`);
    }
  } finally {
    child.kill('SIGTERM');
    await rm(home, { recursive: true, force: true });
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await main();
