import { describe, expect, it } from 'vitest';
import { parseAwsBoolean, resolveEndpoints, type ConfiguredEndpoints } from '../../src/aws/endpoints.js';
import { KeyupError } from '../../src/errors.js';

const ENV_ALL = 'https://all-from-env.example';
const ENV_IAM = 'https://iam-from-env.example';
const ENV_STS = 'https://sts-from-env.example';
const FILE_ALL = 'https://all-from-file.example';
const FILE_IAM = 'https://iam-from-file.example';
const FILE_STS = 'https://sts-from-file.example';

// The shape of the AWS SDKs' shared conformance cases (aws-cli
// tests/functional/configured_endpoint_urls), for IAM and STS instead of S3 and DynamoDB.
describe('resolveEndpoints', () => {
  const cases: [string, Record<string, string>, ConfiguredEndpoints, { iam?: string; sts?: string }][] = [
    ['nothing set: AWS itself', {}, {}, {}],
    ['endpoint_url in the profile serves both', {}, { endpointUrl: FILE_ALL }, { iam: FILE_ALL, sts: FILE_ALL }],
    ['a services section serves only the services it names', {}, { services: { iam: FILE_IAM } }, { iam: FILE_IAM }],
    ['the services section beats endpoint_url', {}, { endpointUrl: FILE_ALL, services: { sts: FILE_STS } }, { iam: FILE_ALL, sts: FILE_STS }],
    ['other services in the section change nothing', {}, { services: { s3: 'https://s3.example', dynamodb: 'https://ddb.example' } }, {}],
    ['AWS_ENDPOINT_URL serves both', { AWS_ENDPOINT_URL: ENV_ALL }, {}, { iam: ENV_ALL, sts: ENV_ALL }],
    [
      'AWS_ENDPOINT_URL beats the whole config file, even its service-specific part',
      { AWS_ENDPOINT_URL: ENV_ALL },
      { endpointUrl: FILE_ALL, services: { iam: FILE_IAM, sts: FILE_STS } },
      { iam: ENV_ALL, sts: ENV_ALL },
    ],
    ['AWS_ENDPOINT_URL_IAM beats AWS_ENDPOINT_URL for IAM only', { AWS_ENDPOINT_URL: ENV_ALL, AWS_ENDPOINT_URL_IAM: ENV_IAM }, {}, { iam: ENV_IAM, sts: ENV_ALL }],
    ['AWS_ENDPOINT_URL_STS beats the config file', { AWS_ENDPOINT_URL_STS: ENV_STS }, { endpointUrl: FILE_ALL, services: { sts: FILE_STS } }, { iam: FILE_ALL, sts: ENV_STS }],
    ['both service variables', { AWS_ENDPOINT_URL_IAM: ENV_IAM, AWS_ENDPOINT_URL_STS: ENV_STS }, {}, { iam: ENV_IAM, sts: ENV_STS }],
    ['an empty variable counts as not set', { AWS_ENDPOINT_URL_IAM: '', AWS_ENDPOINT_URL: ENV_ALL }, {}, { iam: ENV_ALL, sts: ENV_ALL }],
    ['an empty value in the file counts as not set', {}, { endpointUrl: FILE_ALL, services: { iam: '' } }, { iam: FILE_ALL, sts: FILE_ALL }],
    [
      'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the environment and the file',
      { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL: ENV_ALL, AWS_ENDPOINT_URL_IAM: ENV_IAM },
      { endpointUrl: FILE_ALL, services: { sts: FILE_STS } },
      {},
    ],
    ['ignore_configured_endpoint_urls = true in the profile ignores the environment too', { AWS_ENDPOINT_URL_STS: ENV_STS }, { ignoreConfiguredEndpointUrls: 'true', endpointUrl: FILE_ALL }, {}],
    ['the variable set to false beats the profile saying true', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' }, { ignoreConfiguredEndpointUrls: 'true', endpointUrl: FILE_ALL }, { iam: FILE_ALL, sts: FILE_ALL }],
    ['an unreadable ignore variable is skipped: the profile decides', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'yes' }, { ignoreConfiguredEndpointUrls: 'TRUE', endpointUrl: FILE_ALL }, {}],
    ['ignore = false changes nothing', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'False', AWS_ENDPOINT_URL: ENV_ALL }, {}, { iam: ENV_ALL, sts: ENV_ALL }],
    ['a URL with a port and a path is kept as written', { AWS_ENDPOINT_URL: 'http://localhost:4566/aws/' }, {}, { iam: 'http://localhost:4566/aws/', sts: 'http://localhost:4566/aws/' }],
  ];
  it.each(cases)('%s', (_name, env, fromConfig, expected) => {
    expect(resolveEndpoints(env, fromConfig)).toEqual(expected);
  });

  it('reads nothing but its arguments: no config means none', () => {
    expect(resolveEndpoints({ AWS_ENDPOINT_URL_STS: ENV_STS })).toEqual({ sts: ENV_STS });
  });

  it.each([
    ['AWS_ENDPOINT_URL_IAM', { AWS_ENDPOINT_URL_IAM: 'localhost:4566' }, {}],
    ['AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL: 'not a url' }, {}],
    ['endpoint_url of sts in the services section of the AWS config file', {}, { services: { sts: 'ftp://files.example' } }],
    ['endpoint_url in the AWS config file', {}, { endpointUrl: '//no-scheme.example' }],
  ] as const)('refuses a value that is not an http(s) URL, naming where it came from: %s', (source, env, fromConfig) => {
    let error: unknown;
    try {
      resolveEndpoints(env, fromConfig);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(KeyupError);
    expect(error).toMatchObject({ code: 'config-invalid', exitCode: 2 });
    expect((error as KeyupError).message).toContain(source);
    expect((error as KeyupError).hint).toMatch(/scheme and the host/);
  });

  it('does not look at a bad value it never reaches', () => {
    expect(resolveEndpoints({ AWS_ENDPOINT_URL_IAM: ENV_IAM, AWS_ENDPOINT_URL_STS: ENV_STS }, { endpointUrl: 'junk' })).toEqual({ iam: ENV_IAM, sts: ENV_STS });
    expect(resolveEndpoints({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true', AWS_ENDPOINT_URL: 'junk' })).toEqual({});
  });
});

describe('parseAwsBoolean', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['false', false],
    ['FALSE', false],
    ['1', undefined],
    ['yes', undefined],
    ['', undefined],
    [undefined, undefined],
  ] as const)('%j is %j', (value, expected) => {
    expect(parseAwsBoolean(value)).toBe(expected);
  });
});
