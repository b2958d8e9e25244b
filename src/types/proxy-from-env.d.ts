// proxy-from-env 2.x ships no type declarations; this is the one function keyup calls.
declare module 'proxy-from-env' {
  /**
   * The proxy URL for `url` from HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (either case) unless
   * NO_PROXY matches its host; '' for none. Reads process.env.
   */
  export function getProxyForUrl(url: string | URL): string;
}
