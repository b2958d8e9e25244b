import type { CallLogEntry } from './types.js';

/** Every request the emulator answered (or chose not to), oldest first. */
export class CallLog {
  private entries: CallLogEntry[] = [];

  record(entry: CallLogEntry): void {
    this.entries.push(entry);
  }

  list(): CallLogEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  clear(): void {
    this.entries = [];
  }
}
