/**
 * A proxy for keyup's AWS calls, as the AWS CLI and most tools take it from the environment
 * (SPEC "Files and places": HTTPS_PROXY): proxy-from-env picks it for a URL (HTTPS_PROXY for
 * https, HTTP_PROXY for http, ALL_PROXY, both cases, NO_PROXY), and https-proxy-agent reaches
 * the endpoint through it with CONNECT. The AWS SDK for JavaScript takes none of these by itself.
 */
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Agent } from 'node:http';
import { getProxyForUrl } from 'proxy-from-env';

/** What the SDK's request handler needs to go through a proxy: the same agent for both schemes. */
export interface ProxyAgents {
  readonly httpAgent: Agent;
  readonly httpsAgent: Agent;
}

/**
 * The agents that take calls to `endpoint` through the environment's proxy, or undefined for a
 * direct connection. A loopback endpoint (a local emulator) is never proxied: a proxy set for the
 * machine's way out cannot reach this machine's loopback anyway. The proxy URL may carry a user
 * and password; it is never logged.
 */
export function createProxyAgents(endpoint: string): ProxyAgents | undefined {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return undefined;
  }
  if (isLoopback(host)) return undefined;
  const proxy = getProxyForUrl(endpoint);
  if (proxy === '') return undefined;
  const agent = new HttpsProxyAgent(proxy, { keepAlive: true });
  return { httpAgent: agent, httpsAgent: agent };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
