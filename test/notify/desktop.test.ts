/**
 * The desktop notifier with stand-in `notify-send` and `osascript` on PATH that record what they
 * were asked to show and the environment they got: real child processes, no shell.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDesktopNotifier } from '../../src/notify/desktop.js';
import { createTempHome, type TempHome } from '../support/temp-home.js';

describe('createDesktopNotifier', () => {
  let home: TempHome;
  let bin: string;
  let record: string;
  beforeEach(async () => {
    home = await createTempHome();
    bin = join(home.dir, 'bin');
    record = join(home.dir, 'asked.jsonl');
    await mkdir(bin);
  });
  afterEach(() => home.remove());

  /** A stand-in that appends {argv, bus} as a JSON line and exits with `code`. */
  async function standIn(name: string, code = 0) {
    const script = `#!${process.execPath}\nrequire('fs').appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), bus: process.env.DBUS_SESSION_BUS_ADDRESS ?? null }) + '\\n');\nprocess.exit(${code});\n`;
    await writeFile(join(bin, name), script);
    await chmod(join(bin, name), 0o755);
  }
  const asked = async () => (await readFile(record, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { argv: string[]; bus: string | null });

  it('on Linux runs notify-send with the title and body as arguments, and finds the session bus under systemd', async () => {
    await standIn('notify-send');
    const warnings: string[] = [];
    const notifier = createDesktopNotifier({ platform: 'linux', env: { PATH: bin, XDG_RUNTIME_DIR: '/run/user/1000' }, warn: (w) => warnings.push(w) });
    const body = `It's "quoted"; $(rm -rf ~) \`and\` more`;
    await notifier.show({ title: 'keyup rotated', body });
    expect(await asked()).toEqual([{ argv: ['--app-name=keyup', 'keyup rotated', body], bus: 'unix:path=/run/user/1000/bus' }]);
    expect(warnings).toEqual([]);
  });

  it('keeps a session bus it was given', async () => {
    await standIn('notify-send');
    await createDesktopNotifier({ platform: 'linux', env: { PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/bus', XDG_RUNTIME_DIR: '/run/user/1000' }, warn: () => {} }).show({ title: 't', body: 'b' });
    expect((await asked())[0]?.bus).toBe('unix:path=/tmp/bus');
  });

  it('on macOS hands the text to osascript as arguments of the script, never inside its source', async () => {
    await standIn('osascript');
    const title = 'say "hi" & do shell script "id"';
    await createDesktopNotifier({ platform: 'darwin', env: { PATH: bin }, warn: () => {} }).show({ title, body: 'body' });
    const [call] = await asked();
    expect(call?.argv.slice(-2)).toEqual([title, 'body']);
    expect(call?.argv.slice(0, -2).join(' ')).not.toContain(title);
    expect(call?.argv).toContain('display notification (item 2 of argv) with title (item 1 of argv)');
  });

  it('says once that the tool is missing, and goes on', async () => {
    const warnings: string[] = [];
    const notifier = createDesktopNotifier({ platform: 'linux', env: { PATH: bin }, warn: (w) => warnings.push(w) });
    await notifier.show({ title: 't', body: 'b' });
    await notifier.show({ title: 't', body: 'b' });
    expect(warnings).toEqual(['keyup could not show a desktop notification with notify-send (it is not installed); it logs what it would have shown and goes on.']);
  });

  it('says once that the tool fails, and again only after it worked in between', async () => {
    await standIn('notify-send', 1);
    const warnings: string[] = [];
    const notifier = createDesktopNotifier({ platform: 'linux', env: { PATH: bin }, warn: (w) => warnings.push(w) });
    await notifier.show({ title: 't', body: 'b' });
    await notifier.show({ title: 't', body: 'b' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('exit code 1');
    await standIn('notify-send', 0);
    await notifier.show({ title: 't', body: 'b' });
    await standIn('notify-send', 1);
    await notifier.show({ title: 't', body: 'b' });
    expect(warnings).toHaveLength(2);
  });
});
