import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActionHandler, Caller } from './action-context.js';
import { authenticate } from './authenticate.js';
import {
  AwsError,
  internalFailure,
  invalidAction,
  methodNotAllowed,
  missingAction,
  requestEntityTooLarge,
  serviceUnavailable,
  signatureDoesNotMatch,
  throttling,
} from './aws-errors.js';
import type { CallLog } from './call-log.js';
import type { FaultPlan } from './faults.js';
import { IAM_ACTIONS } from './iam-actions.js';
import { createRequestId } from './ids.js';
import { collectParams, readBody } from './query-protocol.js';
import type { RateLimiter } from './rate-limit.js';
import { parseAuthorization, type SignedRequest } from './sigv4.js';
import type { EmulatorState } from './state.js';
import { STS_ACTIONS } from './sts-actions.js';
import type { CallLogEntry, ServiceName } from './types.js';
import { SERVICE_PROTOCOL, renderError, renderResponse } from './xml.js';

const ACTIONS: Readonly<Record<ServiceName, ReadonlyMap<string, ActionHandler>>> = {
  iam: IAM_ACTIONS,
  sts: STS_ACTIONS,
};

export interface AwsHandlerInit {
  state: EmulatorState;
  log: CallLog;
  faults: FaultPlan;
  rateLimiter: RateLimiter;
  clock: () => Date;
  maxBodyBytes: number;
  /** Aborted when the emulator stops, so that no delayed answer outlives it. */
  signal: AbortSignal;
}

function isServiceName(name: string): name is ServiceName {
  return name === 'iam' || name === 'sts';
}

/** The request line's path and query, split without trusting it to be a valid URL. */
function splitTarget(target: string): { path: string; search: string } {
  const at = target.indexOf('?');
  return at === -1 ? { path: target, search: '' } : { path: target.slice(0, at), search: target.slice(at + 1) };
}

function queryValues(search: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(search)) values.set(name, [...(values.get(name) ?? []), value]);
  return values;
}

function recordUse(caller: Caller, now: Date): void {
  // IAM tracks last use of long-term keys only; session keys are not IAM access keys.
  if (caller.key !== null) caller.key.lastUsed = { date: now, serviceName: caller.service, region: caller.region };
}

/**
 * One IAM or STS request end to end: read and parse the awsQuery body, authenticate, take a
 * token from the service's rate limit, apply injected faults, run the action, answer in AWS's
 * XML — and log it. Nothing a client sends may throw out of here.
 */
export function createAwsHandler({ state, log, faults, rateLimiter, clock, maxBodyBytes, signal }: AwsHandlerInit) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = createRequestId();
    const entry: CallLogEntry = {
      time: clock().toISOString(),
      service: null,
      action: null,
      accessKeyId: null,
      userName: null,
      httpStatus: null,
      errorCode: null,
      fault: null,
    };
    // Errors found before the credential scope names a service are worded as IAM's.
    let service: ServiceName = 'iam';

    const answer = (status: number, body: string, error: AwsError | null): void => {
      entry.httpStatus = status;
      entry.errorCode = error?.code ?? null;
      log.record(entry);
      res.writeHead(status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(body),
        'x-amzn-requestid': requestId,
        // The SDK corrects its clock from this header, so it must come from our clock.
        date: clock().toUTCString(),
        ...(error?.status === 413 ? { connection: 'close' } : {}),
      });
      res.end(body);
    };
    const withhold = (): void => log.record(entry);

    let outcome: { result: string | null } | { error: unknown };
    let afterEffect: 'drop-response' | 'hang-after-commit' | null = null;
    try {
      const method = req.method ?? '';
      if (method !== 'POST' && method !== 'GET') throw methodNotAllowed(method);
      const read = await readBody(req, maxBodyBytes);
      if (!read.ok) {
        if (read.reason === 'too-large') throw requestEntityTooLarge(maxBodyBytes);
        withhold();
        return;
      }
      const { path, search } = splitTarget(req.url ?? '/');
      const params = collectParams(search, read.body, req.headers['content-type']);
      const version = params.get('Version');
      if (version === SERVICE_PROTOCOL.sts.version) service = 'sts';
      const action = params.get('Action');
      if (action === undefined || action === '') throw missingAction();
      entry.action = action;

      const auth = parseAuthorization(req.headers);
      if (!isServiceName(auth.scope.service)) {
        throw signatureDoesNotMatch(`Credential should be scoped to correct service: '${service}'. `);
      }
      service = auth.scope.service;
      entry.service = service;
      entry.accessKeyId = auth.scope.accessKeyId;
      const handler = ACTIONS[service].get(action);
      if (handler === undefined || (version !== undefined && version !== SERVICE_PROTOCOL[service].version)) {
        throw invalidAction(action, version ?? SERVICE_PROTOCOL[service].version);
      }

      const request: SignedRequest = { method, path, query: queryValues(search), headers: req.headers, body: read.body };
      const caller = await authenticate({ request, auth, service, state, now: clock() });
      entry.userName = caller.user.name;

      // The limit is the account's, so only a request authenticated to the account can spend
      // from it; one it throttles never reaches the service, nor the faults planned there.
      if (!rateLimiter.tryTake(service, clock().getTime())) {
        entry.fault = 'rate-limit';
        throw throttling();
      }

      const decision = faults.take(service, action);
      entry.fault = decision.logged;
      if (decision.latencyMs > 0) await sleep(decision.latencyMs, undefined, { signal });
      switch (decision.kind) {
        case 'throttle':
          throw throttling();
        case 'internal-failure':
          throw internalFailure();
        case 'service-unavailable':
          throw serviceUnavailable();
        case 'hang':
          // Never answered: the socket stays open until the client gives up or we stop.
          withhold();
          return;
        case 'drop-response':
        case 'hang-after-commit':
          afterEffect = decision.kind;
          break;
        case null:
          break;
      }

      const now = clock();
      try {
        outcome = { result: handler({ params, caller, state, now }) };
      } catch (error) {
        outcome = { error };
      }
      recordUse(caller, now);
    } catch (error) {
      outcome = { error };
    }

    if (signal.aborted) return;
    if (afterEffect === 'drop-response') {
      withhold();
      res.socket?.destroy();
      return;
    }
    if (afterEffect === 'hang-after-commit') {
      withhold();
      return;
    }
    if ('result' in outcome) {
      answer(200, renderResponse(service, entry.action ?? '', outcome.result, requestId), null);
      return;
    }
    const error = outcome.error instanceof AwsError ? outcome.error : internalFailure();
    // Node discards an unread body after the answer; `connection: close` then ends the socket.
    answer(error.status, renderError(service, error, requestId), error);
  };
}
