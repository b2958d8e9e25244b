import type { SectionResult } from './figures.js';

export interface BenchContext {
  /** A line on stderr while the bench runs (it takes minutes); the table goes to stdout at the end. */
  progress(text: string): void;
}

/**
 * One part of the table, run on its own: it starts what it needs (an emulator, a temp HOME) and
 * stops it before the next section starts, so no section's processes compete with another's.
 */
export interface Section {
  readonly title: string;
  run(context: BenchContext): Promise<SectionResult>;
}
