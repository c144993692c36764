/** Figures a benchmark measured, the goals they are held to, and their aligned printing. */

/** A target a figure must reach: at least or at most `target`. */
export interface Goal {
  comparison: 'at_least' | 'at_most';
  target: number;
}

/** One measured figure. */
export interface Figure {
  suite: string;
  /** What was measured, e.g. `1,000 memory · lateness p99`. */
  name: string;
  value: number;
  /** Printed after the value: `ms`, `MB`, `runs/s`, `%`, `s`, or `` for a count or ratio. */
  unit: string;
  goal?: Goal;
  /** Repeated in the final summary (figures with a goal always are). */
  key?: boolean;
}

/** What one suite hands back: its figures and notes on how they were taken. */
export interface SuiteResult {
  figures: Figure[];
  notes: string[];
}

/** PASS or MISS against the figure's goal; empty when it has none. */
export function verdict(figure: Figure): 'PASS' | 'MISS' | '' {
  if (!figure.goal) return '';
  const { comparison, target } = figure.goal;
  const met = comparison === 'at_least' ? figure.value >= target : figure.value <= target;
  return met ? 'PASS' : 'MISS';
}

/** A number with thousands separators and a precision that suits its size. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const size = Math.abs(value);
  const digits = size >= 100 || Number.isInteger(value) ? 0 : size >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function withUnit(value: number, unit: string): string {
  const number = formatNumber(value);
  return unit === '' ? number : `${number} ${unit}`;
}

function formatGoal(figure: Figure): string {
  if (!figure.goal) return '';
  const sign = figure.goal.comparison === 'at_least' ? '≥' : '≤';
  return `${sign} ${withUnit(figure.goal.target, figure.unit)}`;
}

/** Prints rows as columns, left-aligned except the columns named in `right`. */
export function printTable(header: string[], rows: string[][], right: ReadonlySet<number>): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return right.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => '─'.repeat(width))));
  for (const row of rows) console.log(line(row));
}

/** Prints one suite's figures and notes. */
export function printSuite(title: string, result: SuiteResult): void {
  console.log(`\n== ${title} ==`);
  printTable(
    ['figure', 'value', 'goal', ''],
    result.figures.map((figure) => [
      figure.name,
      withUnit(figure.value, figure.unit),
      formatGoal(figure),
      verdict(figure),
    ]),
    new Set([1]),
  );
  for (const note of result.notes) console.log(`  · ${note}`);
}

/** Prints the key figures of every suite, then how many goals were met. */
export function printSummary(figures: Figure[], failures: string[]): void {
  console.log('\n== summary ==');
  printTable(
    ['suite', 'figure', 'value', 'goal', ''],
    figures
      .filter((figure) => figure.key || figure.goal)
      .map((figure) => [
        figure.suite,
        figure.name,
        withUnit(figure.value, figure.unit),
        formatGoal(figure),
        verdict(figure),
      ]),
    new Set([2]),
  );
  const judged = figures.filter((figure) => figure.goal);
  const met = judged.filter((figure) => verdict(figure) === 'PASS').length;
  console.log(`\ngoals met: ${met} of ${judged.length}`);
  for (const failure of failures) console.log(`suite failed (no figures): ${failure}`);
}
