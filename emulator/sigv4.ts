import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { incompleteSignature, missingAuthenticationToken, signatureDoesNotMatch } from './aws-errors.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX_SIGNATURE = /^[0-9a-f]{64}$/;
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

export interface ParsedAuthorization {
  scope: CredentialScope;
  signedHeaders: string[];
  signature: string;
  signingDate: Date;
  amzDate: string;
}

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function headerValue(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string): Date | null {
  const match = AMZ_DATE.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) || date.getUTCDate() !== d ? null : date;
}

function parseScope(credential: string, authorization: string): CredentialScope {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || !accessKeyId || !date || !region || !service) {
    throw incompleteSignature(
      [`Credential should be of the form 'AKID/DATE/REGION/SERVICE/aws4_request', not '${credential}'.`],
      authorization,
    );
  }
  if (terminator !== 'aws4_request') {
    throw signatureDoesNotMatch(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'.`);
  }
  return { accessKeyId, date, region, service };
}

/**
 * Reads `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` and
 * `X-Amz-Date`, answering malformed ones the way AWS does.
 */
export function parseAuthorization(headers: HeaderBag): ParsedAuthorization {
  const authorization = headerValue(headers, 'authorization');
  if (authorization === undefined || authorization.trim() === '') throw missingAuthenticationToken();
  const spaceAt = authorization.indexOf(' ');
  const algorithm = spaceAt === -1 ? authorization : authorization.slice(0, spaceAt);
  const fields = new Map<string, string>();
  if (algorithm === ALGORITHM) {
    for (const part of authorization.slice(spaceAt + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  const amzDate = headerValue(headers, 'x-amz-date');
  const problems: string[] = [];
  if (!credential) problems.push("Authorization header requires 'Credential' parameter.");
  if (!signature) problems.push("Authorization header requires 'Signature' parameter.");
  if (!signedHeaders) problems.push("Authorization header requires 'SignedHeaders' parameter.");
  if (!amzDate) problems.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (!credential || !signature || !signedHeaders || !amzDate) throw incompleteSignature(problems, authorization);

  const signingDate = parseAmzDate(amzDate);
  if (signingDate === null) {
    throw incompleteSignature([`Date must be in ISO-8601 'basic format'. Got '${amzDate}'.`], authorization);
  }
  const scope = parseScope(credential, authorization);
  if (scope.date !== amzDate.slice(0, 8)) {
    throw signatureDoesNotMatch(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}', from 'X-Amz-Date'.`,
    );
  }
  const headerNames = signedHeaders.split(';');
  if (headerNames.some((name) => name === '' || name !== name.toLowerCase())) {
    throw incompleteSignature([`Invalid SignedHeaders '${signedHeaders}'.`], authorization);
  }
  if (!HEX_SIGNATURE.test(signature)) throw signatureDoesNotMatch();
  return { scope, signedHeaders: headerNames, signature, signingDate, amzDate };
}

function compactDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Refuses a request signed more than 15 minutes away from `now`, in AWS's words. */
export function checkRequestTime(auth: ParsedAuthorization, now: Date): void {
  const skew = auth.signingDate.getTime() - now.getTime();
  if (skew < -MAX_SKEW_MS) {
    const earliest = new Date(now.getTime() - MAX_SKEW_MS);
    throw signatureDoesNotMatch(
      `Signature expired: ${auth.amzDate} is now earlier than ${compactDate(earliest)} (${compactDate(now)} - 15 min.)`,
    );
  }
  if (skew > MAX_SKEW_MS) {
    const latest = new Date(now.getTime() + MAX_SKEW_MS);
    throw signatureDoesNotMatch(
      `Signature not yet current: ${auth.amzDate} is still later than ${compactDate(latest)} (${compactDate(now)} + 15 min.)`,
    );
  }
}

export interface SignedRequest {
  method: string;
  path: string;
  query: Map<string, string[]>;
  headers: HeaderBag;
  body: Buffer;
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Recomputes the signature over exactly the headers the client listed, with the secret we
 * hold for its key, and compares in constant time. The arithmetic is Smithy's, the same
 * code the AWS SDK signs with.
 */
export async function verifySignature(request: SignedRequest, auth: ParsedAuthorization, secret: string): Promise<boolean> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headerValue(request.headers, name);
    // A listed header that was not sent cannot have been signed as sent.
    if (value === undefined) return false;
    headers[name] = value;
  }
  // Smithy would trust a declared payload hash; hold the client to the body it really sent.
  // IAM and STS take their parameters from the body, so UNSIGNED-PAYLOAD is no exception.
  const declaredHash = headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== sha256Hex(request.body)) {
    return false;
  }
  const query: Record<string, string | string[]> = {};
  for (const [name, values] of request.query) query[name] = values.length === 1 ? (values[0] as string) : values;

  const signer = new SignatureV4({
    credentials: { accessKeyId: auth.scope.accessKeyId, secretAccessKey: secret },
    region: auth.scope.region,
    service: auth.scope.service,
    sha256: Hash.bind(null, 'sha256'),
    // The client decides which headers it signed; the signer must add none of its own.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({ method: request.method, path: request.path, query, headers, body: request.body }),
    {
      signingDate: auth.signingDate,
      signingRegion: auth.scope.region,
      signingService: auth.scope.service,
      signableHeaders: new Set(auth.signedHeaders),
    },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))?.[1];
  if (expected === undefined) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(auth.signature, 'hex'));
}
