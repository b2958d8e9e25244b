import { randomBytes, randomInt, randomUUID } from 'node:crypto';

// Real key and user ids use this alphabet (RFC 4648 base32), so clients that validate
// the shape of an id accept ours.
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomFrom(alphabet: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A long-term access key id: `AKIA` + 16 characters. */
export function createAccessKeyId(): string {
  return `AKIA${randomFrom(BASE32, 16)}`;
}

/** A temporary (STS) access key id: `ASIA` + 16 characters. */
export function createSessionAccessKeyId(): string {
  return `ASIA${randomFrom(BASE32, 16)}`;
}

/** A 40-character secret access key. */
export function createSecretAccessKey(): string {
  return randomFrom(SECRET_ALPHABET, 40);
}

/** An IAM user's unique id: `AIDA` + 17 characters. */
export function createUserId(): string {
  return `AIDA${randomFrom(BASE32, 17)}`;
}

/** An opaque session token, about as long as a real one. */
export function createSessionToken(): string {
  return `IQoJb3JpZ2luX2Vj${randomBytes(240).toString('base64')}`;
}

/** A hardware TOTP token's serial, shaped like AWS's example `GAHT12345678`. */
export function createHardwareMfaSerial(): string {
  return `GAHT${randomFrom('0123456789', 8)}`;
}

/** The 26-character tail AWS appends to a FIDO security key's name in its serial ARN. */
export function createU2fSuffix(): string {
  return randomFrom(BASE32, 26);
}

/** Six digits that no test takes for a wrong code: never starting with 0, so never `000000`. */
export function createMfaCode(): string {
  return String(100_000 + randomInt(900_000));
}

export function createRequestId(): string {
  return randomUUID();
}
