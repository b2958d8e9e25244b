/**
 * keyupd, the always-on daemon (issue 9), as a real child process with a real socket and real
 * files in a temporary HOME, against the emulator.
 */
import { mkdir, open as openFile, rename, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { StatusDocument } from '../../src/ipc/protocol.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { daysAgo } from '../support/time.js';
import { createDaemonScene, type DaemonRun, type DaemonScene, type DaemonSceneInit } from './daemon-harness.js';
import { defaultKeyOf, waitFor } from './keyupd.js';

isolateAwsEnvironment();

const buildDir = inject('buildDir');
const scene = (init: Omit<DaemonSceneInit, 'buildDir'> = {}) => createDaemonScene({ buildDir, ...init });

/** The file's key is alice's only active key and works; the rotation left nothing half done. */
async function expectOneWorkingKey(s: DaemonScene) {
  const inFile = defaultKeyOf(await s.readCredentials());
  expect(s.aliceKeys().map((key) => [key.accessKeyId, key.secretAccessKey, key.status])).toEqual([[inFile.accessKeyId, inFile.secretAccessKey, 'Active']]);
  expect(inFile.accessKeyId).not.toBe(s.old.accessKeyId);
  const state = await s.readStateFiles();
  expect([...state.keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
  for (const [path, text] of state) if (path.includes('/journal/')) expect(JSON.parse(text), path).toMatchObject({ step: 'retired' });
}

async function stop(run: DaemonRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  run.child.kill('SIGTERM');
  return run.exited;
}

describe('keyupd, the daemon', { timeout: 60_000 }, () => {
  it('rotates a due key at start, serves status over a 0600 socket, and exits 0 on SIGTERM', async () => {
    const s = await scene();
    const run = s.start();
    const status = await s.waitForStatus('the start-up rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    expect(status).toMatchObject({ version: expect.any(String), pid: run.child.pid, schedule: '0 7 * * *', config_error: null, waiting_for_network: false });
    expect(status.profiles[0]).toMatchObject({ profile: 'default', user: 'alice', state: 'ok', max_age_days: 90, error: null, last_rotation: { old_key_id: s.old.accessKeyId, ok: true } });
    expect(Date.parse(status.next_check ?? '')).toBeGreaterThan(Date.now());
    await expectOneWorkingKey(s);
    expect((await stat(s.paths.socketFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(s.paths.socketFile, '..'))).mode & 0o777).toBe(0o700);
    const started = Date.now();
    expect(await stop(run)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    // The socket is gone with it.
    await expect(stat(s.paths.socketFile)).rejects.toMatchObject({ code: 'ENOENT' });
    // No secret of the run in its log or anywhere in its output.
    for (const key of s.emulator.getState().accessKeys.concat([{ ...s.old, lastUsed: null }])) {
      expect(run.stdout()).not.toContain(key.secretAccessKey);
      expect(run.stderr()).not.toContain(key.secretAccessKey);
    }
  });

  it('refuses to start beside a running keyupd (exit 2, naming its pid), and replaces the socket a killed one left', async () => {
    const s = await scene({ ageDays: 10 });
    const first = s.start();
    await s.waitForStatus('the first daemon', () => true, first);
    const second = s.start();
    const ended = await second.exited;
    expect(ended.code).toBe(2);
    expect(second.stderr()).toContain(`keyupd is already running (pid ${first.child.pid}`);
    first.child.kill('SIGKILL');
    await first.exited;
    // The socket file stays behind after kill -9.
    const third = s.start();
    const status = await s.waitForStatus('the daemon after a kill -9', () => true, third);
    expect(status.pid).toBe(third.child.pid);
  });

  it('makes up at start a slot missed while it was down, and not one it did not miss', async () => {
    const s = await scene({ ageDays: 10 });
    await mkdir(s.paths.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(join(s.paths.stateDir, 'daemon.json'), JSON.stringify({ lastCheck: daysAgo(3), views: [] }), { mode: 0o600 });
    const run = s.start();
    await run.waitForLog(/^Making up the check of \S+, missed while keyupd was not running\.$/);
    await s.waitForStatus('the make-up check', (doc) => doc.profiles[0]?.last_checked !== null, run);
    expect(await stop(run)).toMatchObject({ code: 0 });
    // Its last check is now saved: a restart right away has nothing to make up.
    const again = s.start();
    await s.waitForStatus('the start-up check', (doc) => doc.pid === again.child.pid && doc.profiles[0]?.last_checked !== null, again);
    expect(again.logs().some((line) => String(line.msg).startsWith('Making up'))).toBe(false);
  });

  it('waits for the network after a wake (no answer from AWS) without calling it a failure, then rotates once it answers', async () => {
    const proxy = await startProxy();
    const s = await scene({ endpoint: `http://127.0.0.1:${proxy.port}` });
    const run = s.start();
    const waiting = await s.waitForStatus('waiting for the network', (doc) => doc.waiting_for_network, run);
    expect(waiting.profiles[0]?.state).not.toBe('error');
    expect(waiting.profiles[0]?.error?.code).toBe('network');
    expect(s.aliceKeys()).toHaveLength(1);
    await proxy.open(new URL(s.emulator.endpoint).port);
    const rotated = await s.waitForStatus('the rotation after the network came back', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run, 30_000);
    expect(rotated.waiting_for_network).toBe(false);
    expect(s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
    await expectOneWorkingKey(s);
    await proxy.close();
  });

  it('defers while a session is in the credentials file, at once when one is written, and rotates when it goes', async () => {
    const s = await scene({ config: ['[keyup]', 'max_age_days = 0'] });
    const session = await createSession(s);
    const base = await s.readCredentials();
    const withSession = `${base}\n[temp]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\n`;
    await writeFile(s.paths.credentialsFile, withSession);
    const run = s.start();
    const deferred = await s.waitForStatus('the deferral', (doc) => doc.profiles[0]?.state === 'deferred', run);
    expect(deferred.profiles[0]).toMatchObject({ deferred_by: 'temp' });
    expect(s.aliceKeys()).toHaveLength(1);
    // The session goes (written back by rename, as an editor saves): the next check rotates.
    await writeFile(`${s.paths.credentialsFile}.tmp`, base);
    await rename(`${s.paths.credentialsFile}.tmp`, s.paths.credentialsFile);
    await s.waitForStatus('the rotation once the session went', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    // A session written in place (truncate, then write, as aws configure does) defers at once.
    const rotatedText = await s.readCredentials();
    const handle = await openFile(s.paths.credentialsFile, 'r+');
    await handle.truncate(0);
    await handle.write(rotatedText.slice(0, 10), 0);
    await handle.write(`${rotatedText.slice(10)}\n[temp]\naws_access_key_id = ${session.accessKeyId}\naws_secret_access_key = ${session.secretAccessKey}\naws_session_token = ${session.sessionToken}\n`, 10);
    await handle.close();
    await s.waitForStatus('a deferral for the session written in place', (doc) => doc.profiles[0]?.state === 'deferred', run);
    expect(s.aliceKeys()).toHaveLength(1);
  });

  it('picks up a key changed by hand without rotating it, and does nothing for its own writes', async () => {
    const s = await scene();
    const run = s.start();
    await s.waitForStatus('the start-up rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    const creates = () => s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey').length;
    const identifies = () => s.emulator.getCallLog().filter((call) => call.action === 'GetCallerIdentity').length;
    expect(creates()).toBe(1);
    // keyup's own write of the credentials file caused no check: after a later event (a config
    // edit, which reloads), still the start-up check's four identities (one, then three with the
    // new key), and no "changed" in the log.
    await s.writeConfig(['[keyup]', 'log_level = debug']);
    await run.waitForLog(/^Configuration reloaded from /);
    expect(identifies()).toBe(4);
    expect(run.logs().some((line) => String(line.msg).includes('changed; checking the managed profiles again'))).toBe(false);
    const before = identifies();
    // The person makes a new key and puts it in the file by hand.
    const mine = s.emulator.createAccessKey({ userName: 'alice', createDate: new Date().toISOString() });
    const current = defaultKeyOf(await s.readCredentials());
    await writeFile(s.paths.credentialsFile, (await s.readCredentials()).replace(current.accessKeyId, mine.accessKeyId).replace(current.secretAccessKey, mine.secretAccessKey));
    const picked = await s.waitForStatus('the hand-made key in status', (doc) => doc.profiles[0]?.key_id === mine.accessKeyId, run);
    expect(picked.profiles[0]?.state).toBe('ok');
    expect(creates()).toBe(1);
    expect(identifies()).toBeGreaterThan(before);
  });

  it('reloads on SIGHUP (systemctl --user reload) and goes on serving', async () => {
    const s = await scene({ ageDays: 10 });
    const run = s.start();
    await s.waitForStatus('the start-up check', (doc) => doc.profiles[0]?.user === 'alice', run);
    await s.writeConfig(['[keyup]', 'schedule = 0 6 * * *']);
    await run.waitForLog(/^Configuration reloaded from /);
    run.child.kill('SIGHUP');
    await run.waitForLog(/^Reloading on SIGHUP\.$/);
    expect(run.logs().filter((line) => String(line.msg).startsWith('Configuration reloaded from'))).toHaveLength(2);
    const status = await s.waitForStatus('status after the reload', (doc) => doc.schedule === '0 6 * * *', run);
    expect(status.pid).toBe(run.child.pid);
    expect(await stop(run)).toMatchObject({ code: 0 });
  });

  it('re-schedules on a config edit, runs the scheduled check, and refuses an invalid edit, keeping the old config', async () => {
    const s = await scene({ config: ['[keyup]', 'schedule = 0 0 1 1 *', 'max_age_days = 0'] });
    const run = s.start();
    await s.waitForStatus('the start-up rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    await s.writeConfig(['[keyup]', 'schedule = * * * * *', 'max_age_days = 0']);
    const rescheduled = await s.waitForStatus('the new schedule', (doc) => doc.schedule === '* * * * *', run);
    expect(Date.parse(rescheduled.next_check ?? '') - Date.now()).toBeLessThanOrEqual(60_000);
    // An invalid edit: refused, shown in status, the running config kept.
    await s.writeConfig(['[keyup]', 'schedule = every morning', 'max_age_days = 0']);
    const refused = await s.waitForStatus('the refused config', (doc) => doc.config_error !== null, run);
    expect(refused.schedule).toBe('* * * * *');
    expect(refused.config_error).toMatchObject({ code: 'config-invalid', message: expect.stringContaining(`${s.paths.keyupConfigFile}, line 2: schedule`) });
    // The scheduled slot (within a minute) rotates again: max_age_days = 0 rotates at every check.
    await waitFor('a scheduled rotation', () => s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey').length >= 2, { timeoutMs: 75_000, run: { ...run, stdout: run.stdout, stderr: run.stderr } });
    await s.waitForStatus('the scheduled rotation to end', (doc) => doc.profiles[0]?.state !== 'rotating' && s.aliceKeys().length === 1, run);
    expect(await stop(run)).toMatchObject({ code: 0 });
    await expectOneWorkingKey(s);
  }, 120_000);

  it('survives garbage, an oversized line and a client that never reads, while a rotation completes', async () => {
    const s = await scene({ emulator: { activationDelayMs: 1_500 } });
    const run = s.start();
    await s.waitForStatus('the daemon', () => true, run);
    // Garbage and a 70 KiB line on one connection, then a good request: answered.
    const answers = await talk(s.paths.socketFile, ['this is not json', 'x'.repeat(70 * 1024), '{"jsonrpc":"2.0","id":7,"method":"nope"}', '{"jsonrpc":"2.0","id":8,"method":"version"}']);
    expect(answers.map((answer) => (answer.error as { code?: number } | undefined)?.code ?? 'ok')).toEqual([-32700, -32600, -32601, 'ok']);
    // A client that asks and asks and never reads.
    const hog = createConnection(s.paths.socketFile);
    hog.pause();
    const flood = '{"jsonrpc":"2.0","id":1,"method":"config"}\n'.repeat(2_000);
    hog.write(flood);
    // Meanwhile the start-up rotation, slowed by IAM's delay, completes, and status answers.
    await s.waitForStatus('the rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    hog.destroy();
    await expectOneWorkingKey(s);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('after %s during a rotation, the next start finishes it at once', async (signal) => {
    const s = await scene({ emulator: { activationDelayMs: 3_000 } });
    const run = s.start();
    await waitFor('the new key in the journal', async () => (await s.readStateFiles()).get(join(s.paths.stateDir, 'journal', 'default.json'))?.includes('"created"'), { run: { ...run } });
    run.child.kill(signal);
    const ended = await run.exited;
    if (signal === 'SIGTERM') expect(ended).toEqual({ code: 0, signal: null });
    expect(s.aliceKeys()).toHaveLength(2);
    const restart = s.start();
    await s.waitForStatus('the finished rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, restart, 30_000);
    expect(s.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(1);
    await expectOneWorkingKey(s);
  });
});

/** A session of bob's, which STS accepts, for the credentials file. */
async function createSession(s: DaemonScene) {
  s.emulator.createUser({ userName: 'bob' });
  const bob = s.emulator.createAccessKey({ userName: 'bob' });
  const { STSClient, GetSessionTokenCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({ region: 'us-east-1', endpoint: s.emulator.endpoint, credentials: bob, maxAttempts: 1 });
  try {
    const { Credentials } = await sts.send(new GetSessionTokenCommand({}));
    return { accessKeyId: Credentials?.AccessKeyId ?? '', secretAccessKey: Credentials?.SecretAccessKey ?? '', sessionToken: Credentials?.SessionToken ?? '' };
  } finally {
    sts.destroy();
  }
}

/** Sends each line on one connection and collects the JSON-RPC answers (one per line that gets one). */
async function talk(path: string, lines: string[]): Promise<Record<string, unknown>[]> {
  const socket: Socket = createConnection(path);
  const answers: Record<string, unknown>[] = [];
  let buffer = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      answers.push(JSON.parse(buffer.slice(0, at)) as Record<string, unknown>);
      buffer = buffer.slice(at + 1);
    }
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const line of lines) socket.write(`${line}\n`);
  await waitFor('every answer', () => answers.length >= lines.length, { timeoutMs: 10_000 });
  socket.destroy();
  return answers;
}

/** A port that refuses connections until `open()`, then forwards to the emulator: the network coming back. */
async function startProxy(): Promise<{ port: number; open(target: string): Promise<void>; close(): Promise<void> }> {
  const probe = createServer();
  const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
  await new Promise((resolve) => probe.close(resolve));
  let server: Server | undefined;
  return {
    port,
    async open(target) {
      server = createServer((client) => {
        const upstream = createConnection(Number(target), '127.0.0.1');
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    },
  };
}

describe('keyupd logging to a real rsyslog', { timeout: 60_000 }, () => {
  it.each(['udp', 'tcp'] as const)('over %s: the rotation arrives as keyupd lines with the host name, and no secret', async (transport) => {
    const syslog = await startRsyslog();
    const s = await scene({ config: ['[keyup]', 'log = syslog', `syslog = ${transport}://127.0.0.1:${transport === 'udp' ? syslog.udpPort : syslog.tcpPort}`] });
    const run = s.start();
    await waitFor('the rotation in rsyslog’s file', async () => (await syslog.read()).includes('Rotated profile default'), { timeoutMs: 30_000, run: { ...run } });
    const lines = (await syslog.read()).split('\n').filter((line) => line.includes('keyupd'));
    const { hostname } = await import('node:os');
    expect(lines.some((line) => line.includes(hostname()))).toBe(true);
    expect(await stop(run)).toMatchObject({ code: 0 });
    const text = await syslog.read();
    for (const key of s.emulator.getState().accessKeys) expect(text).not.toContain(key.secretAccessKey);
    expect(text).not.toContain(s.old.secretAccessKey);
    await syslog.stop();
  });
});

/**
 * rsyslogd in the foreground with a config of the test's own: UDP and TCP inputs on free loopback
 * ports, everything written to one file. The Debian package `rsyslog` provides it (.ci/run
 * installs it when missing).
 */
async function startRsyslog(): Promise<{ udpPort: number; tcpPort: number; read(): Promise<string>; stop(): Promise<void> }> {
  const { existsSync } = await import('node:fs');
  const { mkdtemp, readFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { spawn } = await import('node:child_process');
  const { createSocket } = await import('node:dgram');
  const binary = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((path) => existsSync(path));
  if (binary === undefined) throw new Error('rsyslogd is not installed: install the Debian package rsyslog (.ci/run does)');
  const dir = await mkdtemp(join(tmpdir(), 'keyup-rsyslog-'));
  const freePort = async (): Promise<number> => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((resolve) => probe.close(resolve));
    return port;
  };
  const [udpPort, tcpPort] = [await freePort(), await freePort()];
  const out = join(dir, 'messages.log');
  await writeFile(
    join(dir, 'rsyslog.conf'),
    [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      'module(load="imtcp")',
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
      `*.* action(type="omfile" file="${out}")`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const read = () => readFile(out, 'utf8').catch(() => '');
  // Ready when a probe sent over UDP reaches the file.
  const probe = createSocket('udp4');
  await waitFor(
    'rsyslogd to take messages',
    async () => {
      if (child.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
      probe.send('<14>1 - - probe - - - keyup-probe', udpPort, '127.0.0.1');
      return (await read()).includes('keyup-probe');
    },
    { timeoutMs: 15_000 },
  );
  probe.close();
  return {
    udpPort,
    tcpPort,
    read,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('keyupd desktop notifications', { timeout: 60_000 }, () => {
  /** A stand-in notify-send first on PATH, recording what it was asked to show and its environment. */
  async function standInNotifySend(s: DaemonScene): Promise<{ path: string; asked(): Promise<{ argv: string[]; env: Record<string, string> }[]> }> {
    const bin = join(s.home.dir, 'bin');
    const record = join(s.home.dir, 'notified.jsonl');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'notify-send'), `#!${process.execPath}\nrequire('fs').appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), env: process.env }) + '\\n');\n`, { mode: 0o755 });
    const { readFile } = await import('node:fs/promises');
    return {
      path: `${bin}:${s.env.PATH}`,
      asked: async () => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { argv: string[]; env: Record<string, string> }),
    };
  }

  it('tells of a failure once, not at every attempt, with what to run and no secret; the session bus is found', async () => {
    const s = await scene();
    // IAM refuses alice's CreateAccessKey: a failure at every attempt.
    s.emulator.reset();
    s.emulator.createUser({ userName: 'alice', deniedActions: ['iam:CreateAccessKey'] });
    const key = s.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    await writeFile(s.paths.credentialsFile, `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`);
    const notify = await standInNotifySend(s);
    const run = s.start([], { PATH: notify.path });
    await s.waitForStatus('the failure', (doc) => doc.profiles[0]?.state === 'error', run);
    await s.call('rotate', {}).catch(() => undefined);
    await s.call('rotate', {}).catch(() => undefined);
    await waitFor('the notification', async () => (await notify.asked()).length > 0, { timeoutMs: 10_000 });
    // Decided when each outcome was logged: one decision to notify for three failed attempts.
    expect(run.logs().filter((line) => String(line.msg).startsWith('Notifying:'))).toHaveLength(1);
    const asked = await notify.asked();
    expect(asked).toHaveLength(1);
    expect(asked[0]?.argv[1]).toBe('keyup could not rotate the AWS key of profile default');
    expect(asked[0]?.argv[2]).toMatch(/^IAM refused iam:CreateAccessKey .* Run keyupctl status to see what to do\.$/);
    expect(asked[0]?.env.DBUS_SESSION_BUS_ADDRESS).toBe(`unix:path=${s.env.XDG_RUNTIME_DIR}/bus`);
    const everything = JSON.stringify(asked);
    expect(everything).not.toContain(key.secretAccessKey);
  });

  it('with notify = all, tells of a rotation too', async () => {
    const s = await scene({ config: ['[keyup]', 'notify = all'] });
    const notify = await standInNotifySend(s);
    const run = s.start([], { PATH: notify.path });
    await s.waitForStatus('the rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    await waitFor('the notification', async () => (await notify.asked()).length > 0, { timeoutMs: 10_000 });
    const asked = await notify.asked();
    expect(asked.map((call) => call.argv[1])).toEqual(['keyup rotated the AWS key of profile default']);
    for (const key of s.emulator.getState().accessKeys) expect(JSON.stringify(asked)).not.toContain(key.secretAccessKey);
  });
});

describe('keyupd post_rotate hooks', { timeout: 60_000 }, () => {
  /** A hook script that appends what it got (argv, environment, stdin) to a file, and answers as told by its exit file. */
  async function recordingHook(s: DaemonScene): Promise<{ path: string; runs(): Promise<{ argv: string[]; env: Record<string, string>; stdin: string; cwd: string }[]>; fail(on: boolean): Promise<void>; slow(ms: number): Promise<void> }> {
    const { readFile } = await import('node:fs/promises');
    const dir = join(s.home.dir, 'hook');
    await mkdir(dir, { recursive: true });
    const record = join(dir, 'runs.jsonl');
    const failFile = join(dir, 'fail');
    const slowFile = join(dir, 'slow');
    const path = join(dir, 'push-key');
    await writeFile(
      path,
      `#!${process.execPath}
const fs = require('fs');
let stdin = '';
process.stdin.on('data', (c) => (stdin += c)).on('end', () => {
  fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv, env: process.env, stdin, cwd: process.cwd() }) + '\\n');
  console.log('pushed ' + JSON.parse(stdin).AccessKeyId + ' with ' + JSON.parse(stdin).SecretAccessKey);
  const slow = fs.existsSync(${JSON.stringify(slowFile)}) ? Number(fs.readFileSync(${JSON.stringify(slowFile)}, 'utf8')) : 0;
  setTimeout(() => process.exit(fs.existsSync(${JSON.stringify(failFile)}) ? 1 : 0), slow);
});
`,
      { mode: 0o755 },
    );
    return {
      path,
      runs: async () => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { argv: string[]; env: Record<string, string>; stdin: string; cwd: string }),
      fail: async (on) => {
        const { rm } = await import('node:fs/promises');
        if (on) await writeFile(failFile, '');
        else await rm(failFile, { force: true });
      },
      slow: (ms) => writeFile(slowFile, String(ms)),
    };
  }

  it('gives the hook the new key on stdin and nowhere else, before the old key is retired; keyup logs its output redacted', async () => {
    const s = await scene();
    const hook = await recordingHook(s);
    await s.writeConfig(['[keyup]', `post_rotate = ${hook.path} --secret-name AWS_KEY`]);
    const run = s.start();
    await s.waitForStatus('the rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
    const [only, ...more] = await hook.runs();
    expect(more).toEqual([]);
    const stdin = JSON.parse(only?.stdin ?? '{}') as { AccessKeyId: string; SecretAccessKey: string };
    const fresh = s.aliceKeys()[0]!;
    expect(stdin).toMatchObject({ AccessKeyId: fresh.accessKeyId, SecretAccessKey: fresh.secretAccessKey, OldAccessKeyId: s.old.accessKeyId, Profile: 'default', UserName: 'alice' });
    expect(only?.argv.slice(2)).toEqual(['--secret-name', 'AWS_KEY']);
    expect(only?.env).toMatchObject({ KEYUP_PROFILE: 'default', KEYUP_OLD_KEY_ID: s.old.accessKeyId, KEYUP_NEW_KEY_ID: fresh.accessKeyId });
    expect(only?.cwd).toBe(s.home.dir);
    for (const secret of [fresh.secretAccessKey, s.old.secretAccessKey]) {
      expect(JSON.stringify(only?.argv)).not.toContain(secret);
      expect(JSON.stringify(only?.env)).not.toContain(secret);
      expect(run.stdout()).not.toContain(secret);
      expect(run.stderr()).not.toContain(secret);
    }
    expect(run.logs().some((line) => line.msg === `pushed ${fresh.accessKeyId} with [secret]`)).toBe(true);
  });

  it('a failing hook keeps the old key active, status says which; a rotate now after the fix runs it again and retires', async () => {
    const s = await scene();
    const hook = await recordingHook(s);
    await hook.fail(true);
    await s.writeConfig(['[keyup]', `post_rotate = ${hook.path}`]);
    const run = s.start();
    const failed = await s.waitForStatus('the failed hook', (doc) => doc.profiles[0]?.state === 'error', run);
    expect(failed.profiles[0]?.error).toMatchObject({ code: 'hook-failed', message: expect.stringContaining(`The post_rotate hook 1 of 1 (${hook.path}) failed (it exited with code 1)`) });
    expect(s.aliceKeys().map((key) => key.status)).toEqual(['Active', 'Active']);
    await hook.fail(false);
    const progress: string[] = [];
    await s.call('rotate', {}, (_method, params) => progress.push(String((params as { text?: string }).text ?? '')));
    expect(progress).toEqual(expect.arrayContaining([`The post_rotate hook 1 of 1 (${hook.path}) succeeded in ${progress.find((line) => line.includes('succeeded in'))?.split('succeeded in ')[1] ?? ''}`]));
    expect(await hook.runs()).toHaveLength(2);
    await expectOneWorkingKey(s);
  });

  it('stays responsive while a slow hook runs', async () => {
    const s = await scene();
    const hook = await recordingHook(s);
    await hook.slow(3_000);
    await s.writeConfig(['[keyup]', `post_rotate = ${hook.path}`]);
    const run = s.start();
    await waitFor('the hook to run', async () => (await hook.runs()).length > 0, { timeoutMs: 15_000, run: { ...run } });
    const started = Date.now();
    const status = await s.call<StatusDocument>('status');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(status.profiles[0]?.state).toBe('rotating');
    await s.waitForStatus('the rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, run);
  });

  it('after kill -9 between the hook and retirement, the next start retires without running the hook again', async () => {
    const s = await scene();
    const hook = await recordingHook(s);
    await s.writeConfig(['[keyup]', `post_rotate = ${hook.path}`]);
    s.emulator.injectFault({ kind: 'hang', action: 'DeleteAccessKey' });
    const run = s.start();
    await waitFor('the retirement to hang', () => s.emulator.getCallLog().some((call) => call.action === 'DeleteAccessKey'), { timeoutMs: 20_000, run: { ...run } });
    run.child.kill('SIGKILL');
    await run.exited;
    s.emulator.clearFaults();
    expect(await hook.runs()).toHaveLength(1);
    const restart = s.start();
    await s.waitForStatus('the finished rotation', (doc) => doc.profiles[0]?.last_rotation?.ok === true, restart);
    expect(await hook.runs()).toHaveLength(1);
    await expectOneWorkingKey(s);
  });
});
