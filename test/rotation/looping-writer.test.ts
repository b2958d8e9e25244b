/**
 * Issue 7, hole 1 under load: another program keeps reading the credentials file and saving what
 * it read a moment later (an editor, `aws configure set`, a dotfile sync), by rename and in
 * place, while keyup rotates. Whatever the interleaving, once that program stops, the next check
 * must leave a working key in the file: the new secret is never lost.
 *
 * Before the fix this lost the new key in 13 of 30 trials (the old key deleted, the file holding
 * it, the journal gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createRotationHarness, daysAgo, type RotationHarness } from '../support/rotation-harness.js';

const TRIALS = 30;

/** Reads the file, waits 0–19 ms, writes back what it read; alternately by rename and in place. */
const WRITER = `
const fs = require('node:fs');
const file = process.argv[1];
let round = 0;
// Asked to stop, it finishes the write in hand: a kill between truncate and write would leave an
// empty file, which no real editor does on purpose.
let stopping = false;
process.on('SIGTERM', () => { stopping = true; });
function step() {
  if (stopping) process.exit(0);
  let text;
  try { text = fs.readFileSync(file); } catch { return setImmediate(step); }
  setTimeout(() => {
    if (round++ % 2 === 0) {
      const temp = file + '.writer.tmp';
      fs.writeFileSync(temp, text, { mode: 0o600 });
      fs.renameSync(temp, file);
    } else {
      fs.writeFileSync(file, text);
    }
    setImmediate(step);
  }, Math.floor(Math.random() * 20));
}
process.stdout.write('ready\\n');
step();
`;

function startWriter(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', WRITER, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child));
  });
}

async function stopWriter(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('a program looping read-then-write on the credentials file during rotations', () => {
  let h: RotationHarness | undefined;
  afterEach(async () => {
    await h?.close();
  });

  it(`never loses the new key (${TRIALS} trials)`, async () => {
    const lost: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'alice' });
      const old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
      await h.writeCredentials(`# kept by hand\n[default]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\nregion = eu-west-1\n`);
      const writer = await startWriter(h.paths.credentialsFile);
      try {
        await h.rotate();
      } finally {
        await stopWriter(writer);
      }
      // The next check, once the other program is quiet.
      await h.rotate();
      const text = await h.readCredentials();
      const active = h.keysOf('alice').filter((key) => key.status === 'Active');
      const ok = active.length === 1 && text.includes(`aws_access_key_id = ${active[0]?.accessKeyId}\n`) && text.includes(`aws_secret_access_key = ${active[0]?.secretAccessKey}\n`);
      if (!ok) lost.push(`trial ${trial}: IAM has ${active.map((key) => key.accessKeyId).join(', ')}; the file:\n${text}`);
      await h.close();
      h = undefined;
    }
    expect(lost, `lost the key in ${lost.length} of ${TRIALS} trials`).toEqual([]);
  }, 120_000);
});
