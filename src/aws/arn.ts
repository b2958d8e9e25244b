export interface UserArn {
  readonly account: string;
  /** IAM path, `/` when none: `arn:aws:iam::1:user/team/alice` has path `/team/`. */
  readonly path: string;
  readonly userName: string;
}

/** Reads an IAM user ARN; anything else (roles, federated users, root) gives undefined. */
export function parseUserArn(arn: string): UserArn | undefined {
  const match = /^arn:aws[a-z-]*:iam::(\d{12}):user(\/(?:[^/]+\/)*)?([^/]+)$/.exec(arn);
  if (match === null) return undefined;
  const [, account, path, userName] = match;
  if (account === undefined || userName === undefined) return undefined;
  return { account, path: path ?? '/', userName };
}
