/** A profile that holds a key: the engine's KeyHolder, or one as keyupctl receives it. */
export interface HolderName {
  readonly file: string;
  readonly profile: string;
}

/** "default", or "legacy (AWS config)" for a profile of the AWS config file. */
export function formatHolder(holder: HolderName): string {
  return holder.file === 'config' ? `${holder.profile} (AWS config)` : holder.profile;
}

/** "default" or "default, legacy (AWS config)". */
export function formatHolders(holders: readonly HolderName[]): string {
  return holders.map(formatHolder).join(', ');
}
