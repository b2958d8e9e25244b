import { describe, expect, it } from 'vitest';
import type { KeyApi } from '../../src/aws/key-api.js';
import { findActiveSession, type SessionProfile } from '../../src/rotation/sessions.js';

const now = new Date('2026-11-24T07:00:00Z');
const session = (name: string, expiresAt?: string): SessionProfile => ({
  name,
  accessKeyId: `ASIA${name.toUpperCase()}`,
  secretAccessKey: 's',
  sessionToken: `token-${name}`,
  ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt) }),
});
const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** STS answering per session token: 'ok' or an error to throw. */
function sts(answers: Record<string, 'ok' | Error>): { keyApi: KeyApi; asked: string[] } {
  const asked: string[] = [];
  const keyApi = {
    getCallerIdentity: async ({ credentials }: { credentials: { sessionToken?: string } }) => {
      const token = credentials.sessionToken ?? '';
      asked.push(token);
      const answer = answers[token];
      if (answer === 'ok') return { account: '1', arn: 'arn:aws:iam::1:user/bob', userId: 'AIDA', userName: 'bob' };
      throw answer ?? new Error(`unexpected token ${token}`);
    },
  } as unknown as KeyApi;
  return { keyApi, asked };
}

describe('findActiveSession', () => {
  const noWait = { sleep: async () => {}, attempts: 3 };

  it('defers for the first session STS accepts, until its expiry when the file says', async () => {
    const { keyApi } = sts({ 'token-old': awsError('ExpiredToken', 403), 'token-live': 'ok' });
    const deferral = await findActiveSession([session('old'), session('live', '2026-11-24T09:00:00Z')], { keyApi, now, retryInit: noWait });
    expect(deferral).toEqual({ deferral: { reason: 'active-session', profile: 'live', until: '2026-11-24T09:00:00.000Z' } });
  });

  it('does not defer for sessions STS refuses, and does not ask about one the file says has expired', async () => {
    const { keyApi, asked } = sts({ 'token-revoked': awsError('InvalidClientTokenId', 403) });
    const deferral = await findActiveSession([session('revoked'), session('expired', '2026-11-24T06:59:59Z')], { keyApi, now, retryInit: noWait });
    expect(deferral).toBeUndefined();
    expect(asked).toEqual(['token-revoked']);
  });

  it('defers and says so when STS cannot be asked, rather than guess', async () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const { keyApi, asked } = sts({ 'token-work': unreachable });
    const deferral = await findActiveSession([session('work')], { keyApi, now, retryInit: noWait });
    expect(deferral).toEqual({ deferral: { reason: 'sts-unreachable', profile: 'work', until: null }, cause: unreachable });
    expect(asked).toHaveLength(3);
  });

  it('finds nothing to wait for without sessions', async () => {
    expect(await findActiveSession([], { keyApi: sts({}).keyApi, now })).toBeUndefined();
  });
});
