import { describe, expect, it } from 'vitest';
import { resolveEndpoints } from '../../src/aws/endpoints.js';
import { createKeyApiLoader, findConfiguredEndpoints, loadConfiguredEndpoints, readProfileName, readRegion } from '../../src/aws/load-key-api.js';
import { parseIni } from '../../src/credentials/parse.js';
import { KeyupError } from '../../src/errors.js';
import { createMemoryFs, hookFs, OLD_ID, OLD_SECRET } from '../credentials/support.js';

const CONFIG_FILE = '/home/me/.aws/config';
const find = (text: string, profile = 'default') => findConfiguredEndpoints(parseIni(text, CONFIG_FILE), profile);

describe('findConfiguredEndpoints', () => {
  it("takes endpoint_url of the profile's own section", () => {
    expect(find('[default]\nregion = eu-west-1\nendpoint_url = http://localhost:4566\n')).toEqual({ endpointUrl: 'http://localhost:4566' });
  });

  it('takes each service of the services section the profile names, from its nested endpoint_url', () => {
    const text = [
      '[default]',
      'services = local',
      '',
      '[services local]',
      'iam =',
      '  endpoint_url = http://localhost:4566/iam',
      '  other_setting = 1',
      'STS =',
      '  endpoint_url=http://localhost:4566/sts',
      's3 =',
      '  addressing_style = path',
      '',
      '[services elsewhere]',
      'iam =',
      '  endpoint_url = http://not-this-one.example',
      '',
    ].join('\n');
    // Keys are looked up in lower case, as botocore reads them; a service without endpoint_url has none.
    expect(find(text)).toEqual({ services: { iam: 'http://localhost:4566/iam', sts: 'http://localhost:4566/sts' } });
  });

  it('reads [profile NAME] for the profile named, never a bare [NAME] section nor [default]', () => {
    const text = [
      '[default]',
      'endpoint_url = http://default.example',
      '[work]',
      'endpoint_url = http://bare-section.example',
      '[profile work]',
      'endpoint_url = http://work.example',
      'services = work-services',
      '[services work-services]',
      'sts =',
      '  endpoint_url = http://work-sts.example',
    ].join('\n');
    expect(find(text, 'work')).toEqual({ endpointUrl: 'http://work.example', services: { sts: 'http://work-sts.example' } });
    expect(find(text, 'default')).toEqual({ endpointUrl: 'http://default.example' });
  });

  it('passes ignore_configured_endpoint_urls on as written, for resolveEndpoints to read', () => {
    const found = find('[default]\nendpoint_url = http://localhost:4566\nignore_configured_endpoint_urls = TRUE\n');
    expect(found).toEqual({ endpointUrl: 'http://localhost:4566', ignoreConfiguredEndpointUrls: 'TRUE' });
    expect(resolveEndpoints({}, found)).toEqual({});
  });

  it('finds nothing for a profile the file does not have, or a services section that is not there', () => {
    expect(find('[profile other]\nendpoint_url = http://other.example\n')).toEqual({});
    expect(find('[default]\nservices = missing\n')).toEqual({});
    expect(find('')).toEqual({});
  });

  it('gives resolveEndpoints what the environment then beats', () => {
    const found = find('[default]\nendpoint_url = http://file.example\nservices = s\n[services s]\niam =\n  endpoint_url = http://file-iam.example\n');
    expect(resolveEndpoints({}, found)).toEqual({ iam: 'http://file-iam.example', sts: 'http://file.example' });
    expect(resolveEndpoints({ AWS_ENDPOINT_URL: 'http://env.example' }, found)).toEqual({ iam: 'http://env.example', sts: 'http://env.example' });
  });
});

describe('readProfileName', () => {
  it.each([
    [{}, 'default'],
    [{ AWS_PROFILE: '' }, 'default'],
    [{ AWS_PROFILE: 'work' }, 'work'],
  ] as const)('%j is %s', (env, expected) => {
    expect(readProfileName(env)).toBe(expected);
  });
});

describe('readRegion', () => {
  it.each([
    [{}, undefined],
    [{ AWS_REGION: '' }, undefined],
    [{ AWS_DEFAULT_REGION: 'eu-west-1' }, 'eu-west-1'],
    [{ AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-west-1' }, 'us-west-2'],
  ] as const)('%j is %s', (env, expected) => {
    expect(readRegion(env)).toBe(expected);
  });
});

describe('loadConfiguredEndpoints', () => {
  it('reads the config file for the profile in use', async () => {
    const fs = createMemoryFs({ [CONFIG_FILE]: '[default]\nendpoint_url = http://default.example\n[profile work]\nendpoint_url = http://work.example\n' });
    await expect(loadConfiguredEndpoints(fs, CONFIG_FILE, 'work')).resolves.toEqual({ endpointUrl: 'http://work.example' });
  });

  it('finds none when there is no config file, as the AWS CLI does without one', async () => {
    await expect(loadConfiguredEndpoints(createMemoryFs(), CONFIG_FILE, 'default')).resolves.toEqual({});
  });

  it('says in one sentence, naming the file and line but not the text, that it cannot parse the file', async () => {
    const fs = createMemoryFs({ [CONFIG_FILE]: `[default]\naws_access_key_id = ${OLD_ID}\n${OLD_SECRET}\n` });
    const error = await loadConfiguredEndpoints(fs, CONFIG_FILE, 'default').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect(error).toMatchObject({ code: 'credentials-file' });
    expect((error as KeyupError).message).toContain(`${CONFIG_FILE}, line 3`);
    expect((error as KeyupError).userMessage).not.toContain(OLD_SECRET);
  });

  it('says so when the path is not a file it can read', async () => {
    const fs = createMemoryFs();
    fs.mkdirSync(CONFIG_FILE, { recursive: true });
    const error = await loadConfiguredEndpoints(fs, CONFIG_FILE, 'default').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyupError);
    expect(error).toMatchObject({ code: 'credentials-file', message: `The AWS config file ${CONFIG_FILE} is not a regular file.` });
  });
});

describe('createKeyApiLoader', () => {
  it('reads nothing until called, then rejects with the KeyupError of a config file it cannot use', async () => {
    const memory = createMemoryFs({ [CONFIG_FILE]: '[default]\nendpoint_url = http://localhost:4566\n[default]\n' });
    const opened: string[] = [];
    const fs = hookFs(memory, {
      open: (path, flags) => {
        opened.push(String(path));
        return memory.promises.open(path, flags);
      },
    });
    const load = createKeyApiLoader({ env: {}, fs, paths: { awsConfigFile: CONFIG_FILE } });
    expect(opened).toEqual([]);
    await expect(load()).rejects.toMatchObject({ name: 'FileFormatError', code: 'credentials-file', message: `${CONFIG_FILE}, line 3: the section [default] appears twice (first on line 1).` });
    expect(opened).toEqual([CONFIG_FILE]);
  });
});
