import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import * as fs from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { createScene, defaultKeyOf, finish, waitFor, type Scene } from './keyupd.js';

const buildDir = inject('buildDir');
const modeOf = async (path: string) => (await fs.stat(path)).mode & 0o7777;

/** The rotation ran to its end: `[default]` holds a new key and the summary says so. */
function expectRotated(scene: Scene, run: { stdout: () => string }) {
  expect(run.stdout()).toMatch(/^keyupd: default \(alice\): rotated /m);
  return fs.readFile(scene.paths.credentialsFile, 'utf8').then((text) => expect(defaultKeyOf(text).accessKeyId).not.toBe(scene.old.accessKeyId));
}

/** stderr is exactly one `keyupd: ` sentence, and no stack trace. */
function expectOneWarning(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^keyupd: \S.*\.$/);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

/** Replaces the scene's config (createScene sets `log = file`, and a key may appear only once). */
async function writeConfig(scene: Scene, lines: string[]): Promise<void> {
  await fs.writeFile(scene.paths.keyupConfigFile, ['[keyup]', 'log_level = debug', ...lines, ''].join('\n'), { mode: 0o600 });
}

describe('keyupd --once: log = file leaves folders it did not make as they were (issue 7)', () => {
  it('hole 5: log_file = ~/keyupd.log keeps HOME 0755', async () => {
    const scene = await createScene({ buildDir, config: ['log_file = ~/keyupd.log'] });
    await fs.chmod(scene.home.dir, 0o755);
    const run = scene.start();
    expect(await finish(run)).toEqual({ code: 0, signal: null });
    await expectRotated(scene, run);
    expect(await modeOf(scene.home.dir)).toBe(0o755);
    expect(await modeOf(join(scene.home.dir, 'keyupd.log'))).toBe(0o600);
    expect(await fs.readFile(join(scene.home.dir, 'keyupd.log'), 'utf8')).toMatch(/Rotated profile default/);
  });

  it('hole 5: a 1777 folder holding the log file keeps its sticky bit', async () => {
    const scene = await createScene({ buildDir, config: ['log_file = ~/shared/keyupd.log'] });
    const shared = join(scene.home.dir, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    const run = scene.start();
    expect(await finish(run)).toEqual({ code: 0, signal: null });
    await expectRotated(scene, run);
    expect(await modeOf(shared)).toBe(0o1777);
    expect(await modeOf(join(shared, 'keyupd.log'))).toBe(0o600);
  });

  it('makes each missing folder of log_file 0700, below a 1777 folder it leaves alone', async () => {
    const scene = await createScene({ buildDir, config: ['log_file = ~/shared/keyup/logs/keyupd.log'] });
    const shared = join(scene.home.dir, 'shared');
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o1777);
    const run = scene.start();
    expect(await finish(run)).toEqual({ code: 0, signal: null });
    expect(await modeOf(shared)).toBe(0o1777);
    expect(await modeOf(join(shared, 'keyup'))).toBe(0o700);
    expect(await modeOf(join(shared, 'keyup', 'logs'))).toBe(0o700);
    expect(await fs.readFile(join(shared, 'keyup', 'logs', 'keyupd.log'), 'utf8')).toMatch(/Rotated profile default/);
  });
});

describe('keyupd --once: the log file itself (issue 7)', () => {
  it('hole 14: a pre-existing 0644 log file becomes 0600 and keeps its lines', async () => {
    const scene = await createScene({ buildDir });
    await fs.mkdir(scene.paths.stateDir, { recursive: true, mode: 0o700 });
    await fs.writeFile(scene.logFile, '{"msg":"an older line"}\n');
    await fs.chmod(scene.logFile, 0o644);
    const run = scene.start();
    expect(await finish(run)).toEqual({ code: 0, signal: null });
    expect(await modeOf(scene.logFile)).toBe(0o600);
    const text = await fs.readFile(scene.logFile, 'utf8');
    expect(text.startsWith('{"msg":"an older line"}\n')).toBe(true);
    expect(text).toMatch(/Rotated profile default/);
  });

  it('hole 14: a log_file that is a folder is one warning; the rotation is done and exits 0', async () => {
    const scene = await createScene({ buildDir, config: ['log_file = ~/logs'] });
    await fs.mkdir(join(scene.home.dir, 'logs'), { mode: 0o755 });
    const run = scene.start();
    expect(await finish(run)).toEqual({ code: 0, signal: null });
    await expectRotated(scene, run);
    expect(expectOneWarning(run.stderr())).toContain(join(scene.home.dir, 'logs'));
    expect(await modeOf(join(scene.home.dir, 'logs'))).toBe(0o755);
  });

  it('hole 14: a log_file that is a FIFO nobody reads neither hangs the run nor changes its mode', async () => {
    const scene = await createScene({ buildDir, config: ['log_file = ~/log.fifo'] });
    const fifo = join(scene.home.dir, 'log.fifo');
    execFileSync('mkfifo', ['-m', '0644', fifo]);
    const run = scene.start();
    expect(await finish(run, 10_000)).toEqual({ code: 0, signal: null });
    await expectRotated(scene, run);
    expect(expectOneWarning(run.stderr())).toContain(fifo);
    expect(await modeOf(fifo)).toBe(0o644);
  });
});

describe('keyupd --once: log = syslog (issue 7, hole 7)', () => {
  it('sends the rotation to a UDP listener with the real hostname, and exits 0', async () => {
    const scene = await createScene({ buildDir });
    const server = createSocket('udp4');
    const received: string[] = [];
    server.on('message', (message) => received.push(message.toString('utf8')));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      await writeConfig(scene, ['log = syslog', `syslog = udp://127.0.0.1:${server.address().port}`]);
      const run = scene.start();
      expect(await finish(run)).toEqual({ code: 0, signal: null });
      await expectRotated(scene, run);
      expect(run.stderr()).toBe('');
      const done = await waitFor('the rotation in syslog', () => received.find((line) => line.includes('Rotated profile default')));
      // RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
      const header = /^<(\d+)>1 (\S+) (\S+) keyupd (\d+) - - \{/.exec(done);
      expect(header, done).not.toBeNull();
      expect(header![3]).toBe(hostname());
      expect(Number(header![4])).toBe(run.child.pid);
      scene.snapshotSecrets();
      for (const secret of scene.aliceSecrets) expect(received.join('\n')).not.toContain(secret);
    } finally {
      server.close();
    }
  });

  it('sends newline-framed lines to a TCP listener, and exits 0', async () => {
    const scene = await createScene({ buildDir });
    let text = '';
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP port');
      await writeConfig(scene, ['log = syslog', `syslog = tcp://127.0.0.1:${address.port}`]);
      const run = scene.start();
      expect(await finish(run)).toEqual({ code: 0, signal: null });
      await expectRotated(scene, run);
      expect(run.stderr()).toBe('');
      await waitFor('the rotation in syslog', () => text.includes('Rotated profile default'));
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      for (const line of lines) expect(line).toMatch(new RegExp(`^<\\d+>1 \\S+ ${hostname().replace(/[.]/g, '\\.')} keyupd \\d+ - - \\{.*\\}$`));
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  });

  it('syslog = tcp://127.0.0.1:1 (nothing listens) is one warning; the rotation is done; exits 0 within seconds', async () => {
    const scene = await createScene({ buildDir });
    await writeConfig(scene, ['log = syslog', 'syslog = tcp://127.0.0.1:1']);
    const started = Date.now();
    const run = scene.start();
    // Before the fix: exit 1 with a stack trace after pino-socket's 10 s.
    expect(await finish(run, 15_000)).toEqual({ code: 0, signal: null });
    // Node start-up and a whole rotation against the emulator (about 3 s), plus at most the 2 s close bound.
    expect(Date.now() - started).toBeLessThan(9_000);
    await expectRotated(scene, run);
    expect(expectOneWarning(run.stderr())).toContain('tcp://127.0.0.1:1');
  });
});
