/** `npm run demo`, the README's first command, as a newcomer runs it (issue 11). */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from './e2e/keyupd.js';

const DEMO = join(inject('buildDir'), 'demo', 'demo.js');

function runDemo() {
  const child = spawn(process.execPath, [DEMO], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null }>((resolve) => child.on('close', (code) => resolve({ code })));
  return { child, exited, output: () => output };
}

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', { timeout: 90_000 }, () => {
  it('walks through status, keys, rotate now, the diff and a deferral in under a minute, and cleans up', async () => {
    const started = Date.now();
    const demo = runDemo();
    const { code } = await demo.exited;
    const output = demo.output();
    expect(code, output).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(output).toMatch(/\$ keyupctl status\n.*\n\n\s+PROFILE\s+USER/);
    expect(output).toMatch(/\$ keyupctl keys\n/);
    expect(output).toMatch(/default: rotated AKIA…\w{4} → AKIA…\w{4}/);
    expect(output).toMatch(/- aws_access_key_id {5}= AKIA\w{16}\n\s+\+ aws_access_key_id {5}= AKIA\w{16}/);
    expect(output).toMatch(/default: deferred until .*profile bob-session holds temporary credentials[\s\S]*\(exit code 4\)/);
    // No secret shown whole, and the throwaway HOME is gone.
    expect(output).not.toMatch(/aws_secret_access_key\s*=\s*[A-Za-z0-9/+]{40}/);
    const home = /HOME=(\S+?)\)/.exec(output)?.[1] ?? '';
    expect(home).toMatch(/keyup-demo-/);
    expect(existsSync(home)).toBe(false);
  });

  it('cleans up on Ctrl-C: keyupd stopped, the HOME removed', async () => {
    const demo = runDemo();
    const pid = Number(await waitFor('keyupd to answer', () => /keyupd \S+, pid (\d+)/.exec(demo.output())?.[1], { timeoutMs: 30_000 }));
    demo.child.kill('SIGINT');
    const { code } = await demo.exited;
    expect(code).toBe(130);
    const home = /HOME=(\S+?)\)/.exec(demo.output())?.[1] ?? '';
    expect(existsSync(home)).toBe(false);
    await waitFor('keyupd to be gone', () => !isRunning(pid), { timeoutMs: 10_000 });
  });
});
