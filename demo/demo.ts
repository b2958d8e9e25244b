/**
 * `npm run demo`: keyup rotating a key, for real, against the bundled IAM/STS emulator — the
 * actual `keyupd --once` program in a throwaway HOME, never the real ~/.aws.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../emulator/index.js';

const KEYUPD = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'bin', 'keyupd.js');
const DAY_MS = 86_400_000;

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text: string) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);
const say = (text = '') => console.log(text);
const mask = (secret: string) => `${secret.slice(0, 4)}${'•'.repeat(12)}`;

/** The credentials file with every secret shortened, as a person may safely see it. */
function showFile(text: string): string {
  return text
    .replace(/(aws_secret_access_key\s*=\s*)(\S+)/g, (_match, key: string, secret: string) => `${key}${mask(secret)}`)
    .replace(/(aws_session_token\s*=\s*)(\S+)/g, (_match, key: string, token: string) => `${key}${mask(token)}`)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

function showKeys(emulator: Emulator, userName: string): void {
  for (const key of emulator.getState().accessKeys.filter((k) => k.userName === userName)) {
    const age = ((Date.now() - Date.parse(key.createDate)) / DAY_MS).toFixed(1);
    say(`    ${key.accessKeyId}  ${key.status.padEnd(8)}  ${age} days old`);
  }
}

/** Runs the real keyupd and shows what it prints: the summary, and its log lines as plain text. */
async function runKeyupd(env: NodeJS.ProcessEnv): Promise<number> {
  say(dim('  $ keyupd --once'));
  const child = spawn(process.execPath, [KEYUPD, '--once'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk.toString('utf8').replace(/^/gm, '  ')));
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        const entry = JSON.parse(line) as { msg?: string; step?: string };
        if (entry.msg !== undefined) say(dim(`    · ${entry.msg}`));
      } catch {
        say(`  ${line}`);
      }
    }
  });
  const code = await new Promise<number>((resolve) => child.on('close', (exitCode) => resolve(exitCode ?? 1)));
  say(dim(`  (exit code ${code})`));
  return code;
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'keyup-demo-'));
  // New keys are refused for a while, like real IAM: keyup has to wait before it trusts one.
  const emulator = await startEmulator({ activationDelayMs: 2_000 });
  try {
    const credentialsFile = join(home, '.aws', 'credentials');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_STATE_HOME: join(home, '.local', 'state'),
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_CONFIG_FILE: join(home, '.aws', 'config'),
      AWS_ENDPOINT_URL_IAM: emulator.endpoint,
      AWS_ENDPOINT_URL_STS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
    };

    emulator.createUser({ userName: 'alice' });
    const old = emulator.createAccessKey({ userName: 'alice', createDate: new Date(Date.now() - 120 * DAY_MS) });
    const original = [
      '# Alice keeps this file by hand; keyup must not touch anything but the key.',
      '[default]',
      `aws_access_key_id     = ${old.accessKeyId}`,
      `aws_secret_access_key = ${old.secretAccessKey}`,
      'region = eu-west-1   ; work',
      '',
      '[personal]',
      'aws_access_key_id = AKIAPERSONALPERSONAL',
      'aws_secret_access_key = personal-secret-stays-as-it-is',
      '',
    ].join('\n');
    await mkdir(dirname(credentialsFile), { recursive: true, mode: 0o700 });
    await writeFile(credentialsFile, original, { mode: 0o600 });

    say(bold('keyup demo') + dim(`  (IAM/STS emulator at ${emulator.endpoint}, HOME=${home})`));
    say();
    say(bold('1. Alice’s key is 120 days old; keyup rotates keys at 90 days.'));
    say(showFile(original));
    say('  IAM holds:');
    showKeys(emulator, 'alice');
    say();
    say(bold('2. keyup rotates it: create, verify (waiting out IAM’s delay), write, retire.'));
    await runKeyupd(env);
    say();
    say(bold('3. Only the two values changed; comments, spacing and the other profile are as they were.'));
    const rotated = await readFile(credentialsFile, 'utf8');
    const before = original.split('\n');
    rotated.split('\n').forEach((line, index) => {
      if (line !== before[index]) say(`    ${dim('-')} ${showFile(before[index] ?? '').trim()}\n    ${bold('+')} ${showFile(line).trim()}`);
    });
    say('  IAM now holds only the new key:');
    showKeys(emulator, 'alice');
    say();
    say(bold('4. The next check finds nothing to do.'));
    await runKeyupd(env);
    say();
    say(bold('5. While a session token in the file still works, keyup defers (exit code 4).'));
    await mkdir(join(home, '.config', 'keyup'), { recursive: true });
    await writeFile(join(home, '.config', 'keyup', 'config'), '[keyup]\nmax_age_days = 0   ; due at every check, for the demo\n');
    emulator.createUser({ userName: 'bob' });
    const bob = emulator.createAccessKey({ userName: 'bob' });
    const session = await getSessionToken(emulator, bob);
    await writeFile(
      credentialsFile,
      `${rotated}\n[mfa-session]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\naws_expiration = ${session.expiration}\n`,
    );
    await runKeyupd(env);
    say();
    say(`Try it yourself: ${dim('npm test')} runs every test, crash tests included.`);
  } finally {
    await emulator.stop();
    await rm(home, { recursive: true, force: true });
  }
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
