/**
 * keyup's side of "CPU per rotation": the engine the daemon and `keyupd --once` use, warm in one
 * process, rotating one profile again and again (`rotate now`). Prints its samples as JSON.
 *
 * Verification pauses are zero here: they are sleeps, which cost no CPU, so the CPU figure is
 * honest; the wall time this child measures is not a real rotation's.
 */
import * as nodeFs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { parseConfig } from '../../src/config/index.js';
import { Engine } from '../../src/engine/engine.js';
import { createLogger } from '../../src/log.js';
import { resolvePaths } from '../../src/paths.js';
import { writeCredentials } from '../fixtures.js';
import { measureRotations, readLoopInit, seedUser } from './rotation-loop.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const init = readLoopInit(process.argv.slice(2));
const home = await mkdtemp(join(tmpdir(), 'keyup-bench-cpu-'));
try {
  await writeCredentials(home, new Map([['default', await seedUser(init)]]));
  const env = {};
  const paths = resolvePaths({ env, home });
  const engine = new Engine({
    fs: nodeFs,
    paths,
    // No config file: every default (backups on), managing profile `default`, as most people run it.
    config: parseConfig('', paths.keyupConfigFile, env, home),
    logger: createLogger({ level: 'silent' }),
    loadKeyApi: async () => createSdkKeyApi({ iamEndpoint: init.endpoint, stsEndpoint: init.endpoint, env }),
    verifyInit: { confirmDelayMs: 0, initialDelayMs: 0 },
  });
  const result = await measureRotations(init, async () => {
    const outcomes = await engine.run({ rotateNow: true });
    const other = outcomes.find((outcome) => outcome.kind !== 'rotated');
    return other === undefined ? undefined : JSON.stringify(other);
  });
  console.log(JSON.stringify(result));
} finally {
  await rm(home, { recursive: true, force: true });
}
