import type { IncomingMessage } from 'node:http';
import { malformedQueryString } from './aws-errors.js';

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; reason: 'too-large' | 'aborted' };

/** Reads a request body, giving up as soon as it grows past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false, reason: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        settle({ ok: false, reason: 'too-large' });
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => settle({ ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => settle({ ok: false, reason: 'aborted' }));
    req.on('close', () => settle({ ok: false, reason: 'aborted' }));
  });
}

/** Whether a Content-Type header names an awsQuery form body (a charset may follow). */
export function isFormContentType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === FORM_CONTENT_TYPE;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw malformedQueryString(`cannot decode '${text.slice(0, 64)}'`);
  }
}

/**
 * Parses `a=1&b=2` strictly, unlike URLSearchParams: a bad percent escape or invalid UTF-8 is
 * an error (MalformedQueryString), not text passed on.
 */
export function parseQueryString(text: string): Map<string, string> {
  const params = new Map<string, string>();
  if (text === '') return params;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeComponent(pair.slice(eq + 1));
    if (name === '') throw malformedQueryString('a parameter has no name');
    params.set(name, value);
  }
  return params;
}

/** The request's parameters: those of the URL's query, then those of a form body. */
export function collectParams(search: string, body: Buffer, contentType: string | undefined): Map<string, string> {
  const params = parseQueryString(search.startsWith('?') ? search.slice(1) : search);
  if (body.length > 0 && isFormContentType(contentType)) {
    const text = body.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(body)) throw malformedQueryString('the body is not UTF-8');
    for (const [name, value] of parseQueryString(text)) params.set(name, value);
  }
  return params;
}
