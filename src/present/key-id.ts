/** IAM access key ids: `AKIA…` for long-term keys, `ASIA…` for session keys; upper case and digits. */
const KEY_ID = /^[A-Z0-9]{16,128}$/;

/** Whether `value` is shaped like an access key id (and so is safe to show in part). */
export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

/**
 * The one way a key id is shown to a person: `AKIA…WXYZ`. Key ids are not secrets, but shortened
 * they read better and cannot be pasted by mistake into the wrong place. A value that is not
 * shaped like a key id (a secret pasted into the wrong line, say) shows nothing of itself.
 */
export function maskKeyId(accessKeyId: string): string {
  if (!isKeyId(accessKeyId)) return '[not a key id]';
  return `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`;
}
