/** How a column lines up. */
export type ColumnAlignment = 'left' | 'right';

/** One column of a {@link formatTable} table. */
export interface TableColumn {
  header: string;
  align?: ColumnAlignment;
}

/** Lines of a plain-text table: a header row, then one row a line, columns two spaces apart. */
export function formatTable(columns: readonly TableColumn[], rows: readonly string[][]): string[] {
  const widths = columns.map((column, index) =>
    Math.max(column.header.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? '';
        const width = widths[index] ?? 0;
        return column.align === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}

/** Text shortened to `length` characters on one line, with an ellipsis when cut. */
export function truncate(text: string, length: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1)}…`;
}
