/**
 * The yardstick for "CPU per rotation": a bare script making the same seven AWS calls as a
 * keyup rotation with the AWS SDK, in one warm process, one IAMClient and STSClient per
 * identity, reused for as long as the identity lives. No files, no journal, no checks beyond
 * the identity: the least any rotation has to do. Prints its samples as JSON.
 */
import { CreateAccessKeyCommand, DeleteAccessKeyCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { SeededKey } from '../fixtures.js';
import { measureRotations, readLoopInit, seedUser } from './rotation-loop.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const init = readLoopInit(process.argv.slice(2));
const clients = new Map<string, { sts: STSClient; iam: IAMClient }>();

function clientsOf(key: SeededKey): { sts: STSClient; iam: IAMClient } {
  let found = clients.get(key.accessKeyId);
  if (found === undefined) {
    const config = { region: 'us-east-1', endpoint: init.endpoint, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } };
    found = { sts: new STSClient(config), iam: new IAMClient(config) };
    clients.set(key.accessKeyId, found);
  }
  return found;
}

let current = await seedUser(init);
const result = await measureRotations(init, async () => {
  const old = clientsOf(current);
  // Whose key, and its age.
  const identity = await old.sts.send(new GetCallerIdentityCommand({}));
  const listed = await old.iam.send(new ListAccessKeysCommand({}));
  if (!(listed.AccessKeyMetadata ?? []).some((key) => key.AccessKeyId === current.accessKeyId)) return 'the key is not listed';
  const made = (await old.iam.send(new CreateAccessKeyCommand({}))).AccessKey;
  if (made?.AccessKeyId === undefined || made.SecretAccessKey === undefined) return 'CreateAccessKey answered without a key';
  const next = { accessKeyId: made.AccessKeyId, secretAccessKey: made.SecretAccessKey };
  // Seen working three times in a row: IAM is eventually consistent.
  const fresh = clientsOf(next);
  for (let seen = 0; seen < 3; seen++) {
    if ((await fresh.sts.send(new GetCallerIdentityCommand({}))).Arn !== identity.Arn) return 'the new key answers as someone else';
  }
  await fresh.iam.send(new DeleteAccessKeyCommand({ AccessKeyId: current.accessKeyId }));
  old.sts.destroy();
  old.iam.destroy();
  clients.delete(current.accessKeyId);
  current = next;
  return undefined;
});
console.log(JSON.stringify(result));
for (const { sts, iam } of clients.values()) {
  sts.destroy();
  iam.destroy();
}
