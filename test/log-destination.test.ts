import { createSocket } from 'node:dgram';
import * as nodeFs from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir } from '../src/fs/fs.js';
import { openLogDestination } from '../src/log-destination.js';
import { createLogger } from '../src/log.js';
import { createTempHome, type TempHome } from './support/temp-home.js';

const syslogDefault = { transport: 'udp' as const, host: '127.0.0.1', port: 514 };

describe('openLogDestination', () => {
  let home: TempHome;
  beforeEach(async () => {
    home = await createTempHome();
  });
  afterEach(() => home.remove());

  it('writes JSON lines to a 0600 file in a 0700 folder it makes', async () => {
    const logFile = join(home.dir, 'state', 'keyup', 'keyupd.log');
    const destination = await openLogDestination({ log: 'file', logFile, syslog: syslogDefault }, (dir) => ensurePrivateDir(nodeFs, dir));
    createLogger({ destination: destination.stream }).info({ profile: 'default' }, 'rotated');
    await destination.close();
    const line = JSON.parse((await fs.readFile(logFile, 'utf8')).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'rotated', profile: 'default', name: 'keyupd' });
    expect((await fs.stat(logFile)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(join(home.dir, 'state', 'keyup'))).mode & 0o777).toBe(0o700);
  });

  it('sends RFC 5424 syslog lines over UDP, with secrets censored', async () => {
    const server = createSocket('udp4');
    const received = new Promise<string>((resolve) => server.once('message', (message) => resolve(message.toString('utf8'))));
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    try {
      const port = server.address().port;
      const destination = await openLogDestination({ log: 'syslog', logFile: '/unused', syslog: { transport: 'udp', host: '127.0.0.1', port } }, async () => {});
      createLogger({ destination: destination.stream, timestamp: destination.timestamp }).warn({ secretAccessKey: 'wJalrXUtnFEMI' }, 'key is old');
      const line = await received;
      await destination.close();
      expect(line).toMatch(/^<\d+>1 \S+ \S+ keyupd /);
      expect(line).toContain('key is old');
      expect(line).not.toContain('wJalrXUtnFEMI');
    } finally {
      server.close();
    }
  });
});
