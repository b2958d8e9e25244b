import { describe, expect, it } from 'vitest';
import { parseUserArn } from '../../src/aws/arn.js';

describe('parseUserArn', () => {
  it('reads user, path and account, with and without an IAM path', () => {
    expect(parseUserArn('arn:aws:iam::123456789012:user/alice')).toEqual({ account: '123456789012', path: '/', userName: 'alice' });
    expect(parseUserArn('arn:aws:iam::123456789012:user/team/ops/alice')).toEqual({ account: '123456789012', path: '/team/ops/', userName: 'alice' });
    expect(parseUserArn('arn:aws-us-gov:iam::123456789012:user/bob')?.userName).toBe('bob');
  });

  it('refuses what is not an IAM user', () => {
    expect(parseUserArn('arn:aws:sts::123456789012:assumed-role/admin/session')).toBeUndefined();
    expect(parseUserArn('arn:aws:iam::123456789012:root')).toBeUndefined();
  });
});
