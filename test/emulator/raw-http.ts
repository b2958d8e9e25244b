import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Credentials } from './helpers.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequestInit {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Sends exactly the given request with node:http, no SDK in between. */
export function sendRaw(endpoint: string, { method = 'POST', path = '/', headers = {}, body }: RawRequestInit): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Writes raw bytes on a TCP connection and returns whatever comes back before it closes. */
export function sendBytes(endpoint: string, bytes: string | Buffer): Promise<string> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

export const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

export interface SignInit {
  credentials: Credentials;
  service: 'iam' | 'sts';
  body?: string;
  method?: string;
  query?: Record<string, string>;
  region?: string;
  signingDate?: Date;
}

/** A request signed the way the SDK signs it, to send with `sendRaw` (and tamper with first). */
export async function signRaw(
  endpoint: string,
  { credentials, service, body = '', method = 'POST', query = {}, region = 'eu-west-1', signingDate }: SignInit,
): Promise<{ method: string; path: string; headers: Record<string, string>; body: string }> {
  const url = new URL(endpoint);
  const headers: Record<string, string> = { host: url.host };
  if (method === 'POST') headers['content-type'] = FORM;
  const signer = new SignatureV4({ credentials, region, service, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign(new HttpRequest({ method, hostname: url.hostname, port: Number(url.port), path: '/', query, headers, body }), {
    signingDate,
  });
  const search = new URLSearchParams(query).toString();
  return {
    method,
    path: search === '' ? '/' : `/?${search}`,
    headers: signed.headers as Record<string, string>,
    body,
  };
}

/** The text of one element of an XML answer. */
export function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}
