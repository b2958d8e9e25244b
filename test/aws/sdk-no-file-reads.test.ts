import { execFileSync, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { seedUser, useEmulator } from '../emulator/helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** A port nothing listens on: bound, then closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * True when some process has the FIFO open for reading (or is blocked opening it): only then
 * does a non-blocking open for writing succeed. Closing our end gives that reader an empty file,
 * so it goes on instead of hanging.
 */
async function releaseWaitingReader(fifo: string): Promise<boolean> {
  try {
    const handle = await fs.open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') return false;
    throw error;
  }
}

interface Use {
  call: string;
  path: string;
  stack: string;
}

/*
 * keyup reads the credentials and config files itself and signs every call with what it read.
 * The SDK must not read them too: each client would re-parse them (53 ms per rotation with a
 * 1,000-profile file), and its shared-ini loader keeps their text, old secrets included, for the
 * life of the daemon.
 *
 * Two independent witnesses, in a child process that runs every KeyApi call:
 * - the two files are named pipes: whatever opens one for reading, by whatever means (JS,
 *   native code, another thread), blocks there as a reader the kernel counts, which we see with
 *   a non-blocking open for writing, and we then let it go on with an empty file;
 * - a preload wraps every path-taking function of node:fs and node:fs/promises and records any
 *   use of a path under the child's HOME (where both files live), with the stack that made it.
 */
describe('createSdkKeyApi and the AWS files', () => {
  it('never opens, reads or even looks at the AWS config and credentials files, nor ~/.aws', async () => {
    const buildDir = inject('buildDir');
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const root = await fs.mkdtemp(join(tmpdir(), 'keyup-sdk-files-'));
    onTestFinished(() => fs.rm(root, { recursive: true, force: true }));
    const home = join(root, 'home');
    const configFile = join(home, '.aws', 'config');
    const credentialsFile = join(home, '.aws', 'credentials');
    const opensLog = join(root, 'opens.log');
    await fs.mkdir(join(home, '.aws'), { recursive: true });
    execFileSync('mkfifo', [configFile, credentialsFile]);
    await fs.writeFile(opensLog, '');

    const child = spawn(process.execPath, ['--import', pathToFileURL(join(FIXTURES, 'record-file-opens.mjs')).href, join(FIXTURES, 'sdk-calls-child.mjs')], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        AWS_CONFIG_FILE: configFile,
        AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
        // Endpoints the way keyupd gets them; no AWS_REGION, so nothing the SDK might want is in
        // the environment and every setting it resolves itself would go on to the files.
        AWS_ENDPOINT_URL_IAM: emulator.endpoint,
        AWS_ENDPOINT_URL_STS: emulator.endpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        KEYUP_TEST_WATCH_DIR: home,
        KEYUP_TEST_OPENS_LOG: opensLog,
        KEYUP_TEST_INPUT: JSON.stringify({ buildDir, endpoint: emulator.endpoint, deadEndpoint: `http://127.0.0.1:${await closedPort()}`, credentials: alice.credentials }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let done = false;
    void exited.then(() => (done = true));

    const readers = new Set<string>();
    const deadline = Date.now() + 25_000;
    while (!done) {
      for (const fifo of [configFile, credentialsFile]) if (await releaseWaitingReader(fifo)) readers.add(fifo);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the child did not finish\nstderr: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const code = await exited;

    const uses = (await fs.readFile(opensLog, 'utf8'))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Use);
    const describeUses = uses.map((use) => `${use.call}(${use.path})\n${use.stack}`).join('\n\n');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // The calls really ran, through every path: answers, AWS errors, no answer at all.
    expect(JSON.parse(stdout)).toEqual({
      getCallerIdentity: { ok: 'alice' },
      getCallerIdentityExplicit: { ok: 'alice' },
      listAccessKeys: { ok: 1 },
      createAccessKey: { ok: 'Active' },
      updateAccessKey: { ok: 'done' },
      getAccessKeyLastUsed: { ok: 'alice' },
      deleteAccessKey: { ok: 'done' },
      noSuchKey: { error: 'NoSuchEntityException' },
      badSecret: { error: 'SignatureDoesNotMatch' },
      aborted: { error: 'AbortError' },
      refused: { error: 'Error' },
      afterRelease: { ok: 'alice' },
    });
    // Both witnesses at once, so that a failure shows what each of them saw.
    expect({ fsCalls: describeUses, pipeReaders: [...readers].sort() }).toEqual({ fsCalls: '', pipeReaders: [] });
  });
});
