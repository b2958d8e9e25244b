/** Files the benchmarks put in place: credentials files and keyup configurations. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const DAY_MS = 86_400_000;

export interface SeededKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** A hand-kept-looking file: comments, spacing, many profiles, the target key in the middle. */
export function makeCredentialsFile(profiles: number): string {
  const lines: string[] = ['# work and personal keys'];
  for (let index = 0; index < profiles; index++) {
    lines.push('', `[profile-${index}]   ; team ${index % 7}`, `aws_access_key_id = ${fakeKeyId(index)}`, `aws_secret_access_key=${'s'.repeat(40)}`, 'region = eu-west-1');
  }
  return lines.join('\n');
}

/** A key id shaped like IAM's, numbered. */
export function fakeKeyId(index: number): string {
  return `AKIA${String(index).padStart(16, '0')}`;
}

/** `~/.aws/credentials` with one profile per key, where keyupd looks by default. */
export async function writeCredentials(home: string, profiles: ReadonlyMap<string, SeededKey>): Promise<string> {
  const file = join(home, '.aws', 'credentials');
  const text = [...profiles].map(([name, key]) => `[${name}]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`).join('\n');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

/** `~/.config/keyup/config` managing exactly these profiles. */
export async function writeKeyupConfig(home: string, profiles: readonly string[]): Promise<string> {
  const file = join(home, '.config', 'keyup', 'config');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, profiles.map((name) => `[profile ${name}]\n`).join('\n'), { mode: 0o600 });
  return file;
}
