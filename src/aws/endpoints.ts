/**
 * Where keyup's IAM and STS calls go. The AWS SDK is told never to look at the environment or the
 * AWS files for this (it would read and keep the credentials file, see sdk-key-api.ts), so keyup
 * follows the SDKs' "service-specific endpoints" convention itself, here, without any I/O.
 */
import { ExitCode, KeyupError } from '../errors.js';
import type { Env } from '../paths.js';

/** Every service's endpoint, unless a service-specific one is set. */
export const ENV_ENDPOINT_URL = 'AWS_ENDPOINT_URL';
export const ENV_ENDPOINT_URL_IAM = 'AWS_ENDPOINT_URL_IAM';
export const ENV_ENDPOINT_URL_STS = 'AWS_ENDPOINT_URL_STS';
/** `true`: every endpoint set in the environment or the AWS config file is ignored. */
export const ENV_IGNORE_CONFIGURED_ENDPOINT_URLS = 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS';

/**
 * What the AWS config file says about endpoints for the profile in use; the caller parses the
 * file. For
 *
 * ```ini
 * [profile work]
 * endpoint_url = https://proxy.example.com
 * services = local-iam
 * ignore_configured_endpoint_urls = false
 *
 * [services local-iam]
 * iam =
 *   endpoint_url = http://localhost:4566
 * ```
 *
 * it is `{ endpointUrl: 'https://proxy.example.com', services: { iam: 'http://localhost:4566' },
 * ignoreConfiguredEndpointUrls: 'false' }`.
 */
export interface ConfiguredEndpoints {
  /** `endpoint_url` of the profile's own section: every service. */
  readonly endpointUrl?: string;
  /**
   * The `[services NAME]` section the profile's `services = NAME` names: each service
   * identifier's `endpoint_url` sub-key, by identifier in lower case (`iam`, `sts`).
   */
  readonly services?: Readonly<Record<string, string | undefined>>;
  /** `ignore_configured_endpoint_urls` of the profile's section, as written. */
  readonly ignoreConfiguredEndpointUrls?: string;
}

/** An endpoint URL per service; undefined: AWS's own (IAM's global one, STS's in the call's region). */
export interface Endpoints {
  readonly iam?: string;
  readonly sts?: string;
}

/**
 * The AWS SDKs' boolean settings: `true` or `false` in any case; anything else counts as not set,
 * as in the JavaScript SDK, which skips a value it cannot read and looks at the next source.
 */
export function parseAwsBoolean(value: string | undefined): boolean | undefined {
  const word = value?.trim().toLowerCase();
  return word === 'true' ? true : word === 'false' ? false : undefined;
}

/**
 * The endpoint of each service, by the precedence of the AWS SDKs and Tools reference guide
 * ("Service-specific endpoints") and of the SDKs' shared conformance tests, first match wins:
 *
 * 0. an endpoint given in code (`createSdkKeyApi`'s `iamEndpoint`, `stsEndpoint`; not here);
 * 1. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, or else `ignore_configured_endpoint_urls = true`
 *    in the profile: every setting below is ignored and AWS's own endpoint is used;
 * 2. `AWS_ENDPOINT_URL_IAM` / `AWS_ENDPOINT_URL_STS`;
 * 3. `AWS_ENDPOINT_URL`;
 * 4. the `endpoint_url` of `iam` / `sts` in the profile's `services` section;
 * 5. `endpoint_url` in the profile;
 * 6. AWS's own endpoint.
 *
 * So the environment beats the config file even where the file is more specific. An empty value
 * counts as not set. A value that is not an http(s) URL is a configuration error naming its source.
 */
export function resolveEndpoints(env: Env, fromConfig: ConfiguredEndpoints = {}): Endpoints {
  const ignore = parseAwsBoolean(env[ENV_IGNORE_CONFIGURED_ENDPOINT_URLS]) ?? parseAwsBoolean(fromConfig.ignoreConfiguredEndpointUrls) ?? false;
  if (ignore) return {};
  const resolve = (service: 'iam' | 'sts', serviceVariable: string): string | undefined => {
    const candidates: [source: string, value: string | undefined][] = [
      [serviceVariable, env[serviceVariable]],
      [ENV_ENDPOINT_URL, env[ENV_ENDPOINT_URL]],
      [`endpoint_url of ${service} in the services section of the AWS config file`, fromConfig.services?.[service]],
      ['endpoint_url in the AWS config file', fromConfig.endpointUrl],
    ];
    const found = candidates.find(([, value]) => value !== undefined && value !== '');
    return found === undefined ? undefined : checkEndpointUrl(found[0], found[1] ?? '');
  };
  const iam = resolve('iam', ENV_ENDPOINT_URL_IAM);
  const sts = resolve('sts', ENV_ENDPOINT_URL_STS);
  return { ...(iam === undefined ? {} : { iam }), ...(sts === undefined ? {} : { sts }) };
}

/** Refused here, at start-up, rather than as a puzzling failure of every call later. */
function checkEndpointUrl(source: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  // `localhost:4566` parses, as a URL of scheme `localhost:`.
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new KeyupError(`${source} is '${value}', which is not an http or https URL.`, {
      hint: 'Give the scheme and the host, for example http://localhost:4566, or remove the setting to use AWS itself.',
      code: 'config-invalid',
      exitCode: ExitCode.usage,
    });
  }
  return value;
}
