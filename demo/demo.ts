/**
 * `npm run demo`: keyup doing its job, for real, against the bundled IAM/STS emulator — the
 * actual keyupd daemon and keyupctl in a throwaway HOME, never the real ~/.aws. Cleans up after
 * itself, Ctrl-C included.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../emulator/index.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin');
const DAY_MS = 86_400_000;

const tty = process.stdout.isTTY && process.env.NO_COLOR === undefined;
const bold = (text: string) => (tty ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (tty ? `\x1b[2m${text}\x1b[0m` : text);
const say = (text = '') => process.stdout.write(`${text}\n`);
const mask = (secret: string) => `${secret.slice(0, 4)}${'•'.repeat(12)}`;

/** The credentials file with every secret and token shortened, as a person may safely see it. */
function showFile(text: string, indent = '    '): string {
  return text
    .replace(/(aws_secret_access_key\s*=\s*)(\S+)/g, (_match, key: string, secret: string) => `${key}${mask(secret)}`)
    .replace(/(aws_session_token\s*=\s*)(\S+)/g, (_match, key: string, token: string) => `${key}${mask(token)}`)
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n');
}

interface Demo {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  readonly emulator: Emulator;
  daemon?: ChildProcess;
}

/** Runs keyupctl as a person would, showing the command and everything it prints. */
async function keyupctl(demo: Demo, args: string[]): Promise<number> {
  say(dim(`  $ keyupctl ${args.join(' ')}`));
  const child = spawn(process.execPath, [join(BIN, 'keyupctl.cjs'), ...args], { env: demo.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const indent = (chunk: Buffer) => chunk.toString('utf8').replace(/^(?=.)/gm, '    ');
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(indent(chunk)));
  child.stderr.on('data', (chunk: Buffer) => process.stdout.write(indent(chunk)));
  const code = await new Promise<number>((resolve) => child.on('close', (exitCode) => resolve(exitCode ?? 1)));
  if (code !== 0) say(dim(`    (exit code ${code})`));
  return code;
}

/** Starts the real keyupd and waits until its start-up check has looked at every profile. */
async function startDaemon(demo: Demo): Promise<void> {
  const daemon = spawn(process.execPath, [join(BIN, 'keyupd.js')], { env: demo.env, stdio: ['ignore', 'pipe', 'pipe'] });
  demo.daemon = daemon;
  let output = '';
  daemon.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  daemon.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (daemon.exitCode !== null) throw new Error(`keyupd exited ${daemon.exitCode}:\n${output}`);
    if (output.includes('"outcome":')) break;
    if (Date.now() > deadline) throw new Error(`keyupd did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopDaemon(demo: Demo): Promise<void> {
  const daemon = demo.daemon;
  if (daemon === undefined || daemon.exitCode !== null || daemon.signalCode !== null) return;
  const exited = new Promise((resolve) => daemon.once('close', resolve));
  daemon.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'keyup-demo-'));
  // New keys are refused for a while, like real IAM: keyup has to wait before it trusts one.
  const emulator = await startEmulator({ activationDelayMs: 2_000 });
  const demo: Demo = {
    home,
    emulator,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
      AWS_ENDPOINT_URL_IAM: emulator.endpoint,
      AWS_ENDPOINT_URL_STS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      ...(tty ? {} : { NO_COLOR: '1' }),
    },
  };
  let cleaned = false;
  const cleanUp = async () => {
    if (cleaned) return;
    cleaned = true;
    await stopDaemon(demo);
    await emulator.stop();
    await rm(home, { recursive: true, force: true });
  };
  const interrupted = () => {
    say('\nInterrupted: stopping keyupd and the emulator, removing the demo HOME.');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  try {
    await run(demo);
  } finally {
    await cleanUp();
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
  }
}

async function run(demo: Demo): Promise<void> {
  const { home, emulator, env } = demo;
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? '';
  emulator.createUser({ userName: 'alice' });
  emulator.createUser({ userName: 'bob' });
  const old = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 85 * DAY_MS) });
  const bob = emulator.createAccessKey({ userName: 'bob', createDate: new Date(Date.now() - 10 * DAY_MS) });
  // Valid for the AWS CLI too: comments only on lines of their own.
  const original = [
    '# Alice keeps this file by hand; keyup must not touch anything but her key.',
    '[default]',
    `aws_access_key_id     = ${old.accessKeyId}`,
    `aws_secret_access_key = ${old.secretAccessKey}`,
    '# eu-west-1 is where work happens',
    'region = eu-west-1',
    '',
    '[bob]',
    `aws_access_key_id = ${bob.accessKeyId}`,
    `aws_secret_access_key = ${bob.secretAccessKey}`,
    '',
  ].join('\n');
  await mkdir(dirname(credentialsFile), { recursive: true, mode: 0o700 });
  await writeFile(credentialsFile, original, { mode: 0o600 });
  const config = ['[keyup]', 'max_age_days = 90', 'warn_age_days = 80', '', '[profile default]', ''].join('\n');
  await mkdir(join(home, '.config', 'keyup'), { recursive: true, mode: 0o700 });
  await writeFile(join(home, '.config', 'keyup', 'config'), config, { mode: 0o600 });

  say(bold('keyup demo') + dim(`  (the IAM/STS emulator at ${emulator.endpoint}; HOME=${home})`));
  say();
  say(bold('1. Alice’s credentials file, kept by hand. Her key is 85 days old.'));
  say(showFile(original));
  say(bold('   keyup’s configuration: rotate at 90 days, warn from 80, manage profile default only.'));
  say(showFile(config));

  say(bold('2. keyupd starts (as `keyupctl install` would have it start at login) and checks at once.'));
  await startDaemon(demo);
  await keyupctl(demo, ['status']);
  say();
  say(bold('3. Every key of Alice’s IAM user, from IAM itself.'));
  await keyupctl(demo, ['keys']);
  say();
  say(bold('4. Rotate now, without waiting for day 90: create, wait for IAM to accept the new key, write, retire.'));
  await keyupctl(demo, ['rotate', 'now']);
  say();
  say(bold('5. Only the two values changed; comments, spacing and Bob’s profile are as they were.'));
  const rotated = await readFile(credentialsFile, 'utf8');
  const before = original.split('\n');
  rotated.split('\n').forEach((line, index) => {
    if (line !== before[index]) say(`    ${dim('-')} ${showFile(before[index] ?? '', '').trim()}\n    ${bold('+')} ${showFile(line, '').trim()}`);
  });
  await keyupctl(demo, ['status']);
  say();
  say(bold('6. While a session in the file still works, keyup waits rather than break it (exit code 4).'));
  const session = await getSessionToken(emulator, bob);
  await writeFile(
    credentialsFile,
    `${rotated}\n[bob-session]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\naws_expiration = ${session.expiration}\n`,
  );
  await keyupctl(demo, ['rotate', 'now']);
  say();
  say(`That is keyup. Install it for good: ${dim('npm pack && npm install -g ./keyup-*.tgz && keyupctl install')} (see the README).`);
}

/** A real temporary credential from the emulator's STS, signed with Bob's key. */
async function getSessionToken(emulator: Emulator, key: { accessKeyId: string; secretAccessKey: string }) {
  const { STSClient, GetSessionTokenCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: key, maxAttempts: 1 });
  try {
    const { Credentials } = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 3600 }));
    if (Credentials?.AccessKeyId === undefined || Credentials.SecretAccessKey === undefined || Credentials.SessionToken === undefined) throw new Error('no session');
    return { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey, sessionToken: Credentials.SessionToken, expiration: Credentials.Expiration?.toISOString() ?? '' };
  } finally {
    sts.destroy();
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
await main();
