import { stripColor } from './color.js';

/** How wide `text` looks on a terminal: colour codes take no room, `…` takes one column. */
export function visibleWidth(text: string): number {
  return [...stripColor(text)].length;
}

/**
 * Lines of an aligned table: a header row, then one row per entry, columns two spaces apart.
 * Cells may be painted; widths count what shows. The last column is not padded, so lines carry
 * no trailing spaces and a long last cell (an error sentence) wraps without pushing the others.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) => Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    headers
      .map((_, column) => {
        const cell = cells[column] ?? '';
        return column === headers.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visibleWidth(cell));
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}
