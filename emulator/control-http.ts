import type { IncomingMessage, ServerResponse } from 'node:http';
import { ControlError } from './control.js';
import { readBody } from './query-protocol.js';
import type { ControlMethod, EmulatorControl } from './types.js';

/** Requests under this path prefix go to the control API, never to IAM or STS. */
export const CONTROL_PATH_PREFIX = '/_emulator/';

const MAX_CONTROL_BODY_BYTES = 1024 * 1024;

/** Every control method and whether it takes an argument (the JSON body). */
export const CONTROL_METHODS: Readonly<Record<ControlMethod, boolean>> = {
  createUser: true,
  createAccessKey: true,
  createMfaDevice: true,
  setMfaCodes: true,
  getState: false,
  getCallLog: false,
  clearCallLog: false,
  setActivationDelay: true,
  injectFault: true,
  listFaults: false,
  clearFaults: false,
  expireSessionToken: true,
  setRateLimit: true,
  reset: false,
};

function isControlMethod(name: string): name is ControlMethod {
  return Object.hasOwn(CONTROL_METHODS, name);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { message } });
}

/**
 * `POST /_emulator/<method>` with the method's argument as the JSON body; answers
 * `{"result": …}` or `{"error": {"message": …}}`.
 */
export function createControlHttpHandler(control: EmulatorControl) {
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const name = path.slice(CONTROL_PATH_PREFIX.length);
    if (!isControlMethod(name)) {
      sendError(res, 404, `Unknown control method '${name}'; known: ${Object.keys(CONTROL_METHODS).join(', ')}.`);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, 'Control methods are called with POST.');
      return;
    }
    const read = await readBody(req, MAX_CONTROL_BODY_BYTES);
    if (!read.ok) {
      if (read.reason === 'too-large') sendError(res, 413, 'The control request body is too large.');
      return;
    }
    let argument: unknown;
    try {
      const text = read.body.toString('utf8').trim();
      argument = text === '' ? undefined : JSON.parse(text);
    } catch {
      sendError(res, 400, 'The control request body is not JSON.');
      return;
    }
    if (CONTROL_METHODS[name] && argument === undefined) {
      sendError(res, 400, `The control method ${name} needs a JSON body.`);
      return;
    }
    try {
      const method = control[name] as (arg?: unknown) => unknown;
      const result = method(argument);
      sendJson(res, 200, { result: result ?? null });
    } catch (error) {
      if (error instanceof ControlError) sendError(res, 400, error.message);
      else throw error;
    }
  };
}
