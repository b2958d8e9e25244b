import { describe, expect, it } from 'vitest';
import { findTemplateDir, isVersionedPath, resolveKeyupdPath, resolveNodePath } from '../../src/service/program-paths.js';
import { createMemoryFs } from '../support/memfs.js';

describe('resolveNodePath', () => {
  it('names Homebrew’s node by its opt link, which outlives brew upgrade, when the link leads to this node', async () => {
    const { fs, vol } = createMemoryFs({ '/opt/homebrew/Cellar/node@20/20.19.1/bin/node': '' });
    vol.mkdirSync('/opt/homebrew/opt/node@20/bin', { recursive: true });
    vol.symlinkSync('/opt/homebrew/Cellar/node@20/20.19.1/bin/node', '/opt/homebrew/opt/node@20/bin/node');
    expect(await resolveNodePath(fs, '/opt/homebrew/Cellar/node@20/20.19.1/bin/node')).toBe('/opt/homebrew/opt/node@20/bin/node');
  });

  it('keeps the Cellar path where there is no opt link to the same node', async () => {
    const { fs } = createMemoryFs({ '/opt/homebrew/Cellar/node/22.1.0/bin/node': '', '/opt/homebrew/opt/node/bin/node': 'another node' });
    expect(await resolveNodePath(fs, '/opt/homebrew/Cellar/node/22.1.0/bin/node')).toBe('/opt/homebrew/Cellar/node/22.1.0/bin/node');
    expect(await resolveNodePath(createMemoryFs().fs, '/opt/homebrew/Cellar/node/22.1.0/bin/node')).toBe('/opt/homebrew/Cellar/node/22.1.0/bin/node');
  });

  it('keeps any other node as it is', async () => {
    expect(await resolveNodePath(createMemoryFs().fs, '/home/a/.nvm/versions/node/v20.19.0/bin/node')).toBe('/home/a/.nvm/versions/node/v20.19.0/bin/node');
  });
});

describe('isVersionedPath', () => {
  it('tells a node that goes away with its version from one that stays', () => {
    expect(isVersionedPath('/home/a/.nvm/versions/node/v20.19.0/bin/node')).toBe(true);
    expect(isVersionedPath('/home/a/.local/share/fnm/node-versions/v22.1.0/installation/bin/node')).toBe(true);
    expect(isVersionedPath('/home/a/.volta/tools/image/node/20.19.0/bin/node')).toBe(true);
    expect(isVersionedPath('/usr/bin/node')).toBe(false);
    expect(isVersionedPath('/opt/homebrew/opt/node@20/bin/node')).toBe(false);
  });
});

describe('resolveKeyupdPath', () => {
  it('finds keyupd.js beside the real file of keyupctl, through npm’s link on PATH', async () => {
    const { fs, vol } = createMemoryFs({ '/usr/lib/node_modules/keyup/dist/src/bin/keyupctl.js': '', '/usr/lib/node_modules/keyup/dist/src/bin/keyupd.js': '' });
    vol.mkdirSync('/usr/bin', { recursive: true });
    vol.symlinkSync('../lib/node_modules/keyup/dist/src/bin/keyupctl.js', '/usr/bin/keyupctl');
    expect(await resolveKeyupdPath(fs, '/usr/bin/keyupctl')).toBe('/usr/lib/node_modules/keyup/dist/src/bin/keyupd.js');
  });

  it('says what is missing when keyupd.js is not there', async () => {
    const { fs } = createMemoryFs({ '/pkg/bin/keyupctl.js': '' });
    await expect(resolveKeyupdPath(fs, '/pkg/bin/keyupctl.js')).rejects.toMatchObject({ code: 'service-failed', message: 'keyupd.js is not beside keyupctl: there is no file /pkg/bin/keyupd.js.' });
    await expect(resolveKeyupdPath(fs, '/nowhere/keyupctl')).rejects.toMatchObject({ code: 'service-failed' });
  });
});

describe('findTemplateDir', () => {
  it('finds the package folder above the running module, from dist/ as from the sources', async () => {
    const { fs } = createMemoryFs({ '/pkg/systemd/keyupd.service': '', '/pkg/launchd/dev.keyup.keyupd.plist': '', '/pkg/dist/src/service/install.js': '' });
    expect(await findTemplateDir(fs, 'systemd', '/pkg/dist/src/service')).toBe('/pkg');
    expect(await findTemplateDir(fs, 'launchd', '/pkg/src/service')).toBe('/pkg');
  });

  it('says the installation is broken when no folder above has the template', async () => {
    await expect(findTemplateDir(createMemoryFs({ '/pkg/dist/x.js': '' }).fs, 'systemd', '/pkg/dist')).rejects.toMatchObject({ code: 'service-failed' });
  });
});
