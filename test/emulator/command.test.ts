import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { UsageError, parseCommandLine, runEmulatorCommand } from '../../emulator/command.js';
import { ControlClient } from '../../emulator/control-client.js';
import { isolateAwsEnvironment, REGION } from './helpers.js';
import { sendRaw } from './raw-http.js';

isolateAwsEnvironment();


describe('parseCommandLine', () => {
  it('reads the flags', () => {
    expect(parseCommandLine(['--port', '4599', '--activation-delay-ms', '250', '--account-id', '111122223333'])).toEqual({
      port: 4599,
      host: undefined,
      activationDelayMs: 250,
      accountId: '111122223333',
    });
  });

  it('refuses bad values and unknown flags', () => {
    expect(() => parseCommandLine(['--port', 'eighty'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--port', '70000'])).toThrow(/at most 65535/);
    expect(() => parseCommandLine(['--activation-delay-ms', '-5'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--account-id', '12'])).toThrow(/12 digits/);
    expect(() => parseCommandLine(['--verbose'])).toThrow(UsageError);
  });

  it('reads a rate limit per service; burst defaults to one second of the rate', () => {
    expect(parseCommandLine(['--iam-rate', '20', '--iam-burst', '40', '--sts-rate', '600']).rateLimit).toEqual({
      iam: { rate: 20, burst: 40 },
      sts: { rate: 600 },
    });
    expect(parseCommandLine(['--sts-rate', '0.5']).rateLimit).toEqual({ sts: { rate: 0.5 } });
    expect(parseCommandLine([]).rateLimit).toBeUndefined();
  });

  it('refuses a rate limit it cannot honour', () => {
    expect(() => parseCommandLine(['--iam-rate', '0'])).toThrow(/--iam-rate must be a number above 0, not '0'/);
    expect(() => parseCommandLine(['--iam-rate', 'fast'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--sts-rate', '1e3'])).toThrow(UsageError);
    expect(() => parseCommandLine(['--iam-rate', '5', '--iam-burst', '2.5'])).toThrow(/--iam-burst must be a whole number/);
    expect(() => parseCommandLine(['--iam-rate', '5', '--iam-burst', '0'])).toThrow(/--iam-burst must be at least 1/);
    expect(() => parseCommandLine(['--sts-burst', '10'])).toThrow(/--sts-burst needs --sts-rate/);
  });
});

describe('runEmulatorCommand', () => {
  it('prints one JSON line with the endpoint once it serves, and stops when asked', async () => {
    let requestStop: () => void = () => undefined;
    const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
    const lines: string[] = [];
    let announced: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (announced = resolve));
    const running = runEmulatorCommand({
      argv: ['--port', '0'],
      writeLine: (line) => {
        lines.push(line);
        announced();
      },
      stopRequested,
    });
    await ready;
    const { endpoint } = JSON.parse(lines[0] ?? '') as { endpoint: string };
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await sendRaw(endpoint, { path: '/_emulator/getState', body: '' })).status).toBe(200);
    requestStop();
    await running;
    expect(lines).toHaveLength(1);
    await expect(sendRaw(endpoint, { path: '/_emulator/getState', body: '' })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the keyup-emulator command, compiled and run as a process', () => {
  // The project as compiled once for this test run (test/support/global-build.ts).
  const outDir = inject('buildDir');
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  function startCommand(args: string[]): ChildProcess {
    const child = spawn(process.execPath, [join(outDir, 'emulator', 'bin', 'keyup-emulator.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  async function firstLine(child: ChildProcess): Promise<string> {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line')) as [string];
    return line;
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves IAM/STS and control over HTTP, then exits 0 on ${signal}`, async () => {
      const child = startCommand(['--port', '0', '--activation-delay-ms', '250']);
      const { endpoint } = JSON.parse(await firstLine(child)) as { endpoint: string };
      const control = new ControlClient({ endpoint });
      await control.createUser({ userName: 'alice' });
      const key = await control.createAccessKey({ userName: 'alice' });
      expect((await control.getState()).activationDelayMs).toEqual({ iam: 250, sts: 250 });
      const sts = new STSClient({ region: REGION, endpoint, credentials: key, maxAttempts: 1 });
      try {
        const identity = await sts.send(new GetCallerIdentityCommand({}));
        expect(identity.Arn).toBe('arn:aws:iam::123456789012:user/alice');
      } finally {
        sts.destroy();
      }
      const exited = once(child, 'exit');
      child.kill(signal);
      expect(await exited).toEqual([0, null]);
    });
  }

  it('throttles at the rate given on the command line', async () => {
    const child = startCommand(['--port', '0', '--iam-rate', '1', '--iam-burst', '1']);
    const { endpoint } = JSON.parse(await firstLine(child)) as { endpoint: string };
    const control = new ControlClient({ endpoint });
    expect((await control.getState()).rateLimit).toEqual({ iam: { rate: 1, burst: 1 }, sts: null });
    await control.createUser({ userName: 'alice' });
    const key = await control.createAccessKey({ userName: 'alice' });
    const iam = new IAMClient({ region: REGION, endpoint, credentials: key, maxAttempts: 1 });
    try {
      const results = await Promise.allSettled([iam.send(new GetUserCommand({})), iam.send(new GetUserCommand({}))]);
      expect(results.map((result) => (result.status === 'fulfilled' ? 'ok' : (result.reason as Error).name)).sort()).toEqual([
        'Throttling',
        'ok',
      ]);
    } finally {
      iam.destroy();
    }
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });

  it('exits 2 with the usage on a bad flag', async () => {
    const child = startCommand(['--port', 'x']);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(2);
    expect(stderr).toMatch(/^keyup-emulator: --port must be a whole number, not 'x'\.\nusage: keyup-emulator /);
  });

  it('exits 1 when the port is taken', async () => {
    const first = startCommand(['--port', '0']);
    const { endpoint } = JSON.parse(await firstLine(first)) as { endpoint: string };
    const second = startCommand(['--port', new URL(endpoint).port]);
    const [code] = (await once(second, 'exit')) as [number];
    expect(code).toBe(1);
    first.kill('SIGTERM');
    await once(first, 'exit');
  });
});
