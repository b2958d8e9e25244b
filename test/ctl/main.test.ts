import { describe, expect, it } from 'vitest';
import { ExitCode, KeyupError } from '../../src/errors.js';
import { DaemonNotRunningError } from '../../src/ipc/client.js';
import { runKeyupctl, type KeyupctlDeps } from '../../src/ctl/main.js';
import type { ServiceModule } from '../../src/ctl/service.js';

function harness(overrides: Partial<KeyupctlDeps> = {}) {
  let out = '';
  let err = '';
  const deps: KeyupctlDeps = {
    out: (text) => (out += text),
    err: (text) => (err += text),
    env: { XDG_RUNTIME_DIR: '/run/user/1000' },
    home: '/home/alice',
    stdoutIsTTY: false,
    request: async () => {
      throw new Error('no daemon in this test');
    },
    now: () => new Date('2026-11-24T10:00:00Z'),
    readVersion: () => '9.9.9',
    getAsk: () => undefined,
    loadService: async () => {
      throw new Error('no service module in this test');
    },
    loadSocketWatch: async () => () => ({ changed: Promise.resolve(), close: () => {} }),
    ...overrides,
  };
  return { deps, out: () => out, err: () => err };
}

function fakeService(calls: unknown[], failWith?: KeyupError, fileState: 'new' | 'changed' | 'unchanged' = 'new'): ServiceModule {
  const init = { fake: true } as unknown as ReturnType<ServiceModule['createServiceInit']>;
  return {
    createServiceInit: () => init,
    install: async (given, options) => {
      calls.push(['install', given === init, options]);
      if (failWith) throw failWith;
      return { lines: ['Wrote /home/alice/.config/systemd/user/keyupd.service.', 'keyupd.service is enabled and started.'], fileState };
    },
    uninstall: async (given) => {
      calls.push(['uninstall', given === init]);
      return { lines: ['keyupd.service is stopped and removed.'] };
    },
  };
}

describe('runKeyupctl', () => {
  it('prints its own version, asking nobody', async () => {
    const { deps, out } = harness();
    expect(await runKeyupctl(['--version'], deps)).toBe(ExitCode.ok);
    expect(out()).toBe('keyupctl 9.9.9\n');
  });

  it('asks keyupd at the socket SPEC names, with the timeout given', async () => {
    const asked: unknown[] = [];
    const { deps } = harness({
      request: async (socketPath, method, params, options) => {
        asked.push({ socketPath, method, params, timeoutMs: options?.timeoutMs });
        return { reloaded: true, config_error: null };
      },
    });
    expect(await runKeyupctl(['reload'], deps)).toBe(ExitCode.ok);
    expect(await runKeyupctl(['reload', '--timeout', '3', '--socket', '~/k.sock'], deps)).toBe(ExitCode.ok);
    expect(asked).toEqual([
      { socketPath: '/run/user/1000/keyup/keyupd.sock', method: 'reload', params: undefined, timeoutMs: undefined },
      { socketPath: '/home/alice/k.sock', method: 'reload', params: undefined, timeoutMs: 3000 },
    ]);
  });

  it('install and uninstall print the service module’s lines; install passes --dry-run', async () => {
    const calls: unknown[] = [];
    let asked = 0;
    const { deps, out } = harness({
      loadService: async () => fakeService(calls),
      // Nothing answers before install; the started keyupd does after it.
      request: async (socketPath) => {
        if (asked++ === 0) throw new DaemonNotRunningError(socketPath, 'ENOENT', undefined);
        return { version: '9.9.9', pid: 4242, profiles: [] };
      },
    });
    expect(await runKeyupctl(['install', '--dry-run'], deps)).toBe(ExitCode.ok);
    expect(await runKeyupctl(['install'], deps)).toBe(ExitCode.ok);
    expect(await runKeyupctl(['uninstall'], deps)).toBe(ExitCode.ok);
    expect(calls).toEqual([
      ['install', true, { dryRun: true }],
      ['install', true, { dryRun: false }],
      ['uninstall', true],
    ]);
    const installed = 'Wrote /home/alice/.config/systemd/user/keyupd.service.\nkeyupd.service is enabled and started.\n';
    expect(out()).toBe(`${installed}${installed}keyupd 9.9.9 answers at /run/user/1000/keyup/keyupd.sock (pid 4242).\nkeyupd.service is stopped and removed.\n`);
  });

  it('after install, waits for the started keyupd to answer, waking when its socket folder changes', async () => {
    const socket = '/run/user/1000/keyup/keyupd.sock';
    const asked: string[] = [];
    const watched: string[] = [];
    let closed = 0;
    const { deps, out } = harness({
      loadService: async () => fakeService([]),
      request: async (socketPath, method) => {
        asked.push(method);
        if (asked.length < 4) throw new DaemonNotRunningError(socketPath, 'ENOENT', undefined);
        return { version: '9.9.9', pid: 4242, profiles: [] };
      },
      loadSocketWatch: async () => (socketPath) => {
        watched.push(socketPath);
        return { changed: Promise.resolve(), close: () => void closed++ };
      },
    });
    expect(await runKeyupctl(['install'], deps)).toBe(ExitCode.ok);
    // One look before install (nothing there), then one per wake.
    expect(asked).toEqual(['status', 'status', 'status', 'status']);
    expect(watched).toEqual([socket, socket, socket]);
    expect(closed).toBe(3);
    expect(out()).toMatch(/answers at \/run\/user\/1000\/keyup\/keyupd\.sock \(pid 4242\)\.\n$/);
  });

  it('does not take a keyupd started by hand before install for the service', async () => {
    const handStarted = { version: '9.9.9', pid: 777, profiles: [] };
    const { deps, err } = harness({ loadService: async () => fakeService([]), request: async () => handStarted });
    expect(await runKeyupctl(['install'], deps)).toBe(ExitCode.failed);
    expect(err()).toBe(
      "keyupctl: The service is installed, but the keyupd that answers at /run/user/1000/keyup/keyupd.sock is pid 777, which was running before and is not the service's, so the service's own keyupd could not start. Stop pid 777 (Ctrl-C where it runs, or kill 777), then run keyupctl install again.\n",
    );
    // The service's own keyupd, already running with an unchanged unit, is the one that answers.
    const running = harness({ loadService: async () => fakeService([], undefined, 'unchanged'), request: async () => handStarted });
    expect(await runKeyupctl(['install'], running.deps)).toBe(ExitCode.ok);
    expect(running.out()).toMatch(/\(pid 777\)\.\n$/);
  });

  it('says in one sentence when the started keyupd never answers, and exits 1', async () => {
    let clock = Date.parse('2026-11-24T10:00:00Z');
    const { deps, err } = harness({
      loadService: async () => fakeService([]),
      // Each look costs the fake clock 6 s: the deadline passes after a few looks, without waiting for it.
      now: () => new Date((clock += 6_000)),
      request: async (socketPath) => {
        throw new DaemonNotRunningError(socketPath, 'ECONNREFUSED', undefined);
      },
    });
    expect(await runKeyupctl(['install'], deps)).toBe(ExitCode.failed);
    expect(err()).toBe('keyupctl: keyupd was started but does not answer at /run/user/1000/keyup/keyupd.sock after 20 s. Its log, named above, tells why; after fixing that, run keyupctl install again.\n');
  });

  it('does not wait with --dry-run, and passes on a reply that is not a refusal', async () => {
    const asked: string[] = [];
    const dry = harness({ loadService: async () => fakeService([]), request: async (_socket, method) => (asked.push(method), {}) });
    expect(await runKeyupctl(['install', '--dry-run'], dry.deps)).toBe(ExitCode.ok);
    expect(asked).toEqual([]);
    const garbled = harness({ loadService: async () => fakeService([]) });
    expect(await runKeyupctl(['install'], garbled.deps)).toBe(ExitCode.failed);
    expect(garbled.err()).toMatch(/^keyupctl: an unexpected error stopped keyupctl \(no daemon in this test\)/);
  });

  it('says an install failure in one sentence with its fix, and its exit code', async () => {
    const failure = new KeyupError('No systemd user instance answers.', { hint: 'Run keyupd from your session instead.', code: 'no-service-manager' });
    const { deps, err } = harness({ loadService: async () => fakeService([], failure) });
    expect(await runKeyupctl(['install'], deps)).toBe(ExitCode.failed);
    expect(err()).toBe('keyupctl: No systemd user instance answers. Run keyupd from your session instead.\n');
  });

  it('says an unexpected error in one sentence, and adds the stack only with --debug', async () => {
    const { deps, err } = harness();
    expect(await runKeyupctl(['status'], deps)).toBe(ExitCode.failed);
    expect(err()).toBe('keyupctl: an unexpected error stopped keyupctl (no daemon in this test). Run again with --debug for details.\n');
    const debug = harness();
    expect(await runKeyupctl(['status', '--debug'], debug.deps)).toBe(ExitCode.failed);
    expect(debug.err()).toMatch(/^keyupctl: an unexpected error .*\nError: no daemon in this test\n\s+at /);
  });
});
