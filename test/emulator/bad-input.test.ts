import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index.js';
import { isolateAwsEnvironment, seedUser, stsClient, useEmulator } from './helpers.js';
import { FORM, sendBytes, sendRaw, signRaw, xmlField, type RawResponse } from './raw-http.js';

isolateAwsEnvironment();

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
// Shaped like the SDK's header, but no key signs this.
const FAKE_AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261124/eu-west-1/iam/aws4_request, ' +
  `SignedHeaders=content-type;host;x-amz-date, Signature=${'0'.repeat(64)}`;

function expectAwsError(response: RawResponse, status: number, code: string, namespace = IAM_NS): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toBe('text/xml');
  expect(response.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.body).toMatch(new RegExp(`^<ErrorResponse xmlns="${namespace}"><Error><Type>`));
  expect(xmlField(response.body, 'Type')).toBe(status >= 500 ? 'Receiver' : 'Sender');
  expect(xmlField(response.body, 'Code')).toBe(code);
  expect(xmlField(response.body, 'RequestId')).toBe(response.headers['x-amzn-requestid']);
}

let survivors = 0;

/** The emulator still does its job after whatever a test threw at it. */
async function expectStillServing(emulator: Emulator): Promise<void> {
  survivors += 1;
  const user = seedUser(emulator, `survivor${survivors}`);
  await expect(stsClient(emulator, user.credentials).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
}

describe('bad input over raw HTTP', () => {
  it('an unsigned request is MissingAuthenticationToken (403)', async () => {
    const emulator = await useEmulator();
    const response = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM },
      body: 'Action=GetUser&Version=2010-05-08',
    });
    expectAwsError(response, 403, 'MissingAuthenticationToken');
    expect(xmlField(response.body, 'Message')).toBe('Request is missing Authentication Token');
  });

  it('a garbled Authorization header is IncompleteSignature (400) naming what is missing', async () => {
    const emulator = await useEmulator();
    const garbage = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM, authorization: 'Bearer \u00ff\u00fe', 'x-amz-date': '20261124T000000Z' },
      body: 'Action=GetUser&Version=2010-05-08',
    });
    expectAwsError(garbage, 400, 'IncompleteSignature');
    expect(xmlField(garbage.body, 'Message')).toContain("Authorization header requires 'Credential' parameter.");

    const noDate = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM, authorization: FAKE_AUTH },
      body: 'Action=GetUser&Version=2010-05-08',
    });
    expectAwsError(noDate, 400, 'IncompleteSignature');
    expect(xmlField(noDate.body, 'Message')).toContain("requires existence of either a 'X-Amz-Date' or a 'Date' header");

    const badDate = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM, authorization: FAKE_AUTH, 'x-amz-date': 'yesterday' },
      body: 'Action=GetUser&Version=2010-05-08',
    });
    expectAwsError(badDate, 400, 'IncompleteSignature');
    await expectStillServing(emulator);
  });

  it('no Action is MissingAction; an unknown one, or one of the other service, is InvalidAction', async () => {
    const emulator = await useEmulator();
    const headers = { 'content-type': FORM, authorization: FAKE_AUTH, 'x-amz-date': '20261124T000000Z' };
    expectAwsError(await sendRaw(emulator.endpoint, { headers, body: 'Version=2010-05-08' }), 400, 'MissingAction');
    const unknown = await sendRaw(emulator.endpoint, { headers, body: 'Action=DeleteUser&Version=2010-05-08' });
    expectAwsError(unknown, 400, 'InvalidAction');
    expect(xmlField(unknown.body, 'Message')).toBe('Could not find operation DeleteUser for version 2010-05-08');
    // Inherited object properties are not actions.
    expectAwsError(await sendRaw(emulator.endpoint, { headers, body: 'Action=toString' }), 400, 'InvalidAction');
    expectAwsError(await sendRaw(emulator.endpoint, { headers, body: 'Action=constructor' }), 400, 'InvalidAction');
    // An STS action signed for IAM.
    expectAwsError(await sendRaw(emulator.endpoint, { headers, body: 'Action=GetCallerIdentity&Version=2011-06-15' }), 400, 'InvalidAction');
    await expectStillServing(emulator);
  });

  it('a malformed form body is MalformedQueryString', async () => {
    const emulator = await useEmulator();
    for (const body of ['Action=GetUser&UserName=%ZZ', 'Action=GetUser&UserName=%C3%28', '=x&Action=GetUser']) {
      const response = await sendRaw(emulator.endpoint, { headers: { 'content-type': FORM }, body });
      expectAwsError(response, 404, 'MalformedQueryString');
    }
    const binary = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM },
      body: Buffer.from([0x41, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x3d, 0xff, 0xfe]),
    });
    expectAwsError(binary, 404, 'MalformedQueryString');
    await expectStillServing(emulator);
  });

  it('an oversized body is refused with 413 without being read', async () => {
    const emulator = await useEmulator({ maxBodyBytes: 1024 });
    const response = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': FORM },
      body: `Action=GetUser&Padding=${'x'.repeat(70_000)}`,
    });
    expectAwsError(response, 413, 'RequestEntityTooLarge');
    await expectStillServing(emulator);
  });

  it('an oversized chunked body is refused too', async () => {
    const emulator = await useEmulator({ maxBodyBytes: 1024 });
    const response = await new Promise<RawResponse>((resolve, reject) => {
      const url = new URL(emulator.endpoint);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'content-type': FORM } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.write('Action=GetUser&Padding=');
      req.write('y'.repeat(4096));
      req.end();
    });
    expectAwsError(response, 413, 'RequestEntityTooLarge');
  });

  it('a wrong method is 405; a body that is not a form carries no parameters', async () => {
    const emulator = await useEmulator();
    const put = await sendRaw(emulator.endpoint, { method: 'PUT', headers: { 'content-type': FORM }, body: 'Action=GetUser' });
    expectAwsError(put, 405, 'MethodNotAllowed');
    const json = await sendRaw(emulator.endpoint, {
      headers: { 'content-type': 'application/json' },
      body: '{"Action":"GetUser"}',
    });
    expectAwsError(json, 400, 'MissingAction');
    await expectStillServing(emulator);
  });

  it('bytes Node’s HTTP parser rejects get an XML 400 and the emulator carries on', async () => {
    const emulator = await useEmulator();
    const badHeader = await sendBytes(emulator.endpoint, 'POST / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\nContent-Length: 0\r\n\r\n');
    expect(badHeader).toMatch(/^HTTP\/1\.1 400 /);
    expect(badHeader).toContain('<Code>MalformedHTTPRequest</Code>');
    const notHttp = await sendBytes(emulator.endpoint, '\u0000\u0001 hello there\r\n\r\n');
    expect(notHttp).toMatch(/^HTTP\/1\.1 400 /);
    const hugeHeader = await sendBytes(emulator.endpoint, `POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
    expect(hugeHeader).toMatch(/^HTTP\/1\.1 431 /);
    await expectStillServing(emulator);
  });

  it('a client that goes away mid-body, or mid-headers, does no harm', async () => {
    const emulator = await useEmulator();
    const url = new URL(emulator.endpoint);
    for (const partial of ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nAction=Get', 'POST / HTTP/1.1\r\nHo']) {
      await new Promise<void>((resolve) => {
        const socket = connect(Number(url.port), url.hostname, () => socket.write(partial, () => socket.destroy()));
        socket.on('close', () => resolve());
      });
    }
    await expectStillServing(emulator);
  });
});

describe('signed raw requests', () => {
  it('a body changed after signing is SignatureDoesNotMatch', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice', { admin: true });
    const signed = await signRaw(emulator.endpoint, {
      credentials: alice.credentials,
      service: 'iam',
      body: 'Action=ListAccessKeys&Version=2010-05-08&UserName=alice',
    });
    const honest = await sendRaw(emulator.endpoint, signed);
    expect(honest.status).toBe(200);
    expect(honest.body).toMatch(new RegExp(`^<ListAccessKeysResponse xmlns="${IAM_NS}"><ListAccessKeysResult>`));
    // The signature covers x-amz-content-sha256, not the body itself: the emulator must check
    // that the body it got is the one that header declares.
    expect(signed.headers['x-amz-content-sha256']).toBeDefined();
    const tampered = await sendRaw(emulator.endpoint, { ...signed, body: signed.body.replace('alice', 'bob') });
    expectAwsError(tampered, 403, 'SignatureDoesNotMatch');
  });

  it('accepts GET with the parameters in the query string, as AWS does', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const signed = await signRaw(emulator.endpoint, {
      credentials: alice.credentials,
      service: 'sts',
      method: 'GET',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    });
    const response = await sendRaw(emulator.endpoint, signed);
    expect(response.status).toBe(200);
    expect(xmlField(response.body, 'Arn')).toBe(alice.arn);
    expect(response.body).toMatch(new RegExp(`^<GetCallerIdentityResponse xmlns="${STS_NS}">`));
  });

  it('a credential scope of another service is refused', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const signed = await signRaw(emulator.endpoint, {
      credentials: alice.credentials,
      service: 's3' as 'iam',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    const response = await sendRaw(emulator.endpoint, signed);
    expectAwsError(response, 403, 'SignatureDoesNotMatch', STS_NS);
  });

  it('a signed request is logged with its key and user', async () => {
    const emulator = await useEmulator();
    const alice = seedUser(emulator, 'alice');
    const signed = await signRaw(emulator.endpoint, {
      credentials: alice.credentials,
      service: 'sts',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    await sendRaw(emulator.endpoint, signed);
    await sendRaw(emulator.endpoint, { headers: { 'content-type': FORM }, body: 'Action=GetUser' });
    expect(emulator.getCallLog()).toEqual([
      {
        time: expect.stringMatching(/Z$/),
        service: 'sts',
        action: 'GetCallerIdentity',
        accessKeyId: alice.credentials.accessKeyId,
        userName: 'alice',
        httpStatus: 200,
        errorCode: null,
        fault: null,
      },
      expect.objectContaining({ service: null, action: 'GetUser', httpStatus: 403, errorCode: 'MissingAuthenticationToken' }),
    ]);
  });
});
