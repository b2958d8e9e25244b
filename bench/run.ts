/**
 * `npm run bench`: figures, not pass/fail. How long keyup's own work takes — parsing and
 * rewriting a large credentials file, starting keyupd, a whole rotation against the local
 * emulator — so that a change that makes them slower shows up here.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startEmulator } from '../emulator/index.js';
import { replaceAccessKey } from '../src/credentials/edit.js';
import { listProfiles } from '../src/credentials/profiles.js';
import { parseIni } from '../src/credentials/parse.js';

const KEYUPD = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin', 'keyupd.js');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function measure(runs: number, work: () => void): number {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return median(times);
}

function report(name: string, ms: number, detail = ''): void {
  console.log(`${name.padEnd(52)} ${ms.toFixed(2).padStart(9)} ms${detail === '' ? '' : `  (${detail})`}`);
}

/** A hand-kept-looking file: comments, spacing, many profiles, the target key in the middle. */
function makeCredentialsFile(profiles: number): string {
  const lines: string[] = ['# work and personal keys'];
  for (let index = 0; index < profiles; index++) {
    const id = `AKIA${String(index).padStart(16, '0')}`;
    lines.push('', `[profile-${index}]   ; team ${index % 7}`, `aws_access_key_id = ${id}`, `aws_secret_access_key=${'s'.repeat(40)}`, 'region = eu-west-1');
  }
  return lines.join('\n');
}

async function benchRotation(): Promise<void> {
  const emulator = await startEmulator();
  const home = await mkdtemp(join(tmpdir(), 'keyup-bench-'));
  try {
    emulator.createUser({ userName: 'alice' });
    const key = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 100 * 86_400_000) });
    const credentials = join(home, '.aws', 'credentials');
    await mkdir(dirname(credentials), { recursive: true });
    await writeFile(credentials, `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`, { mode: 0o600 });
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_ENDPOINT_URL_IAM: emulator.endpoint,
      AWS_ENDPOINT_URL_STS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
    };
    // Asynchronously: the emulator answers from this process's event loop.
    const runOnce = async () => {
      const start = performance.now();
      await promisify(execFile)(process.execPath, [KEYUPD, '--once'], { env });
      return performance.now() - start;
    };
    const rotation = await runOnce();
    const calls = emulator.getCallLog().length;
    report('keyupd --once: a whole rotation, no IAM delay', rotation, `${calls} AWS calls; 2 s of it are verification pauses`);
    const checks: number[] = [];
    for (let run = 0; run < 5; run++) checks.push(await runOnce());
    report('keyupd --once: a check with nothing due', median(checks), 'median of 5, process start included');
  } finally {
    await emulator.stop();
    await rm(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`keyup benchmarks on Node ${process.version}, ${process.platform}/${process.arch}\n`);
  for (const profiles of [10, 1_000]) {
    const text = makeCredentialsFile(profiles);
    const target = `AKIA${String(Math.floor(profiles / 2)).padStart(16, '0')}`;
    const runs = profiles > 100 ? 50 : 500;
    report(`parse + classify, ${profiles} profiles (${(text.length / 1024).toFixed(0)} KiB)`, measure(runs, () => listProfiles(parseIni(text, 'credentials'))), `median of ${runs}`);
    const document = parseIni(text, 'credentials');
    report(`replace one key, ${profiles} profiles`, measure(runs, () => replaceAccessKey(document, target, { accessKeyId: 'AKIANEWNEWNEWNEWNEW1', secretAccessKey: 'n'.repeat(40) })), `median of ${runs}`);
  }
  report('keyupd --help: start-up', measure(5, () => spawnSync(process.execPath, [KEYUPD, '--help'])), 'median of 5');
  await benchRotation();
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await main();
