import { createAwsHandler } from './aws-handler.js';
import { CallLog } from './call-log.js';
import { createControl, readRateLimitSettings } from './control.js';
import { CONTROL_PATH_PREFIX, createControlHttpHandler } from './control-http.js';
import { FaultPlan } from './faults.js';
import { listen } from './http-server.js';
import { NO_RATE_LIMITS, RateLimiter } from './rate-limit.js';
import { EmulatorState } from './state.js';
import type { ActivationDelays, EmulatorControl, RateLimitSettings } from './types.js';

export type * from './types.js';
export { ControlError } from './control.js';
export { CONTROL_PATH_PREFIX } from './control-http.js';

export interface EmulatorOptions {
  /** TCP port; default 0 (any free port — read `endpoint`). */
  port?: number;
  /** Default `127.0.0.1`: the emulator checks signatures but is no security boundary. */
  host?: string;
  /**
   * How long a key made by CreateAccessKey is refused with InvalidClientTokenId, like IAM's
   * eventual consistency; one number for both services or one per service. Default 0.
   */
  activationDelayMs?: number | Partial<ActivationDelays>;
  /**
   * A token bucket per service, e.g. `{ iam: { rate: 20, burst: 40 } }`: a request that finds
   * its service's bucket empty is answered 400 Throttling. Default: no limit (README: what a
   * realistic one is). Buckets start full and refill by `now`.
   */
  rateLimit?: RateLimitSettings;
  /**
   * The emulator's clock for dates, expiry, activation and the 15-minute signing window.
   * Default: the system clock. A clock far from the system's makes the SDK's first request
   * fail with "Signature expired", as AWS would; the SDK then adopts the answer's `Date`.
   */
  now?: () => Date;
  /** Default `123456789012`. */
  accountId?: string;
  /** Larger request bodies are refused with 413; default 64 KiB. */
  maxBodyBytes?: number;
  /** Told about a failure inside the emulator itself (a bug); the request gets a 500. */
  onUnexpectedError?: (error: unknown) => void;
}

export interface Emulator extends EmulatorControl {
  /** `http://127.0.0.1:PORT`: give it to the SDK as both the IAM and the STS endpoint. */
  readonly endpoint: string;
  readonly accountId: string;
  /** Closes the server and every connection, hung ones included. */
  stop(): Promise<void>;
}

function toDelays(delay: number | Partial<ActivationDelays>): ActivationDelays {
  return typeof delay === 'number' ? { iam: delay, sts: delay } : { iam: delay.iam ?? 0, sts: delay.sts ?? 0 };
}

/** Starts a local IAM + STS emulator that speaks awsQuery and checks SigV4 signatures. */
export async function startEmulator({
  port = 0,
  host = '127.0.0.1',
  activationDelayMs = 0,
  rateLimit = {},
  now = () => new Date(),
  accountId = '123456789012',
  maxBodyBytes = 64 * 1024,
  onUnexpectedError,
}: EmulatorOptions = {}): Promise<Emulator> {
  const state = new EmulatorState(accountId, toDelays(activationDelayMs));
  const log = new CallLog();
  const faults = new FaultPlan();
  const rateLimiter = new RateLimiter({ ...NO_RATE_LIMITS, ...readRateLimitSettings(rateLimit) });
  const lifetime = new AbortController();
  const control = createControl({ state, log, faults, rateLimiter, clock: now });
  const handleControl = createControlHttpHandler(control);
  const handleAws = createAwsHandler({ state, log, faults, rateLimiter, clock: now, maxBodyBytes, signal: lifetime.signal });

  const server = await listen({
    host,
    port,
    onUnexpectedError,
    handler: (req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      return path.startsWith(CONTROL_PATH_PREFIX) ? handleControl(req, res, path) : handleAws(req, res);
    },
  });

  return {
    ...control,
    endpoint: server.endpoint,
    accountId,
    stop() {
      lifetime.abort();
      return server.close();
    },
  };
}
