/**
 * What a benchmark reports, and how: every figure is several samples summed up as median and
 * min–max, and a comparison is a ratio of two medians measured in the same `npm run bench`.
 */

/** `s/h`: seconds (of CPU) an hour. */
export type Unit = 'ms' | 'calls' | 'MiB' | 'count' | 's/h';

/** A ratio of two medians measured in the same run, and what the figure is compared with. */
export interface Comparison {
  readonly ratio?: number;
  readonly against: string;
}

export interface Figure {
  readonly name: string;
  readonly unit: Unit;
  readonly samples: readonly number[];
  readonly compare?: Comparison;
}

/** One section of the table: its figures, and the sentences a reader needs to read them right. */
export interface SectionResult {
  readonly title: string;
  readonly figures: readonly Figure[];
  readonly notes: readonly string[];
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** The middle sample, or the mean of the two middle ones: with two runs, neither is favoured. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

export function figure(name: string, unit: Unit, samples: readonly number[], compare?: Comparison): Figure {
  return compare === undefined ? { name, unit, samples } : { name, unit, samples, compare };
}

/** `figure`'s median over `baseline`'s, `against` saying what the baseline is. */
export function ratioTo(samples: readonly number[], baseline: readonly number[], against: string): Comparison {
  return { ratio: median(samples) / median(baseline), against };
}

/** Enough digits to compare, no more: 0.123, 1.23, 12.3, 123. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  const digits = Number.isInteger(value) ? 0 : size < 1 ? 3 : size < 10 ? 2 : size < 100 ? 1 : 0;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatValue(value: number, unit: Unit): string {
  return unit === 'count' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

function formatCompare(compare: Comparison | undefined): string {
  if (compare === undefined) return '';
  return compare.ratio === undefined ? compare.against : `${compare.ratio.toFixed(2)}× ${compare.against}`;
}

/**
 * The one table: name | median | min–max | n | compare, columns aligned, a line per section
 * title, the sections' notes numbered below it.
 */
export function formatTable(sections: readonly SectionResult[]): string {
  const header = ['name', 'median', 'min–max', 'n', 'compare'];
  const rows: (string[] | string)[] = [];
  for (const section of sections) {
    rows.push(section.title);
    for (const item of section.figures) {
      const { median: middle, min, max, n } = summarize(item.samples);
      rows.push([item.name, formatValue(middle, item.unit), `${formatNumber(min)}–${formatNumber(max)}`, String(n), formatCompare(item.compare)]);
    }
  }
  const widths = header.map((title, column) => Math.max(title.length, ...rows.filter((row): row is string[] => Array.isArray(row)).map((row) => (row[column] ?? '').length)));
  // Numbers right-aligned so their digits line up; words left-aligned.
  const align = [false, true, true, true, false];
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (align[column] === true ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((width) => '-'.repeat(width)))];
  for (const row of rows) out.push(Array.isArray(row) ? line(row) : `## ${row}`);
  const notes = sections.flatMap((section) => section.notes);
  if (notes.length > 0) out.push('', ...notes.map((note, index) => `(${index + 1}) ${note}`));
  return out.join('\n');
}

/** The same figures for a machine: summary, samples and comparison of each. */
export function toJson(sections: readonly SectionResult[]): unknown {
  return sections.map((section) => ({
    title: section.title,
    figures: section.figures.map((item) => ({ name: item.name, unit: item.unit, ...summarize(item.samples), samples: item.samples, ...(item.compare === undefined ? {} : { compare: item.compare }) })),
    notes: section.notes,
  }));
}
