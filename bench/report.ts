/** Figures a benchmark measured, the goals they are held to, and their aligned printing. */

/** A target a figure must reach: at least or at most `target`. */
export interface Goal {
  comparison: 'at_least' | 'at_most';
  target: number;
}

/**
 * The Goals table of issue #18 (the cost of a run), in its order: `npm run bench` prints the
 * figures held to each line under it, and says which suite measures a line it did not run.
 */
export const ISSUE_GOALS = [
  { line: 'runtime ratio, memory', goal: '≥ 0.8', suite: 'runtime' },
  {
    line: 'fleet ratio vs BullMQ + bare generateText, 2 workers',
    goal: '≥ 0.6, moonshot 0.85',
    suite: 'distributed',
  },
  { line: 'Redis commands per run under BullMQ', goal: '≤ 30', suite: 'distributed' },
  {
    line: '1,000 agents at 1 s on Postgres, delivered / p99',
    goal: '≥ 99 % / ≤ 100 ms',
    suite: 'scheduler',
  },
  {
    line: '1,000 agents at 1 s on Redis, delivered / p99',
    goal: '≥ 99 % / ≤ 100 ms',
    suite: 'scheduler',
  },
  {
    line: 'real fleet’s day (10,000 × 60 s, 2 s model) on SQLite, Postgres, Redis',
    goal: '100 % delivered, p99 ≤ 100 ms, RSS ≤ 400 MB',
    suite: 'fleet-day',
  },
  { line: '10,000 idle agents, RSS', goal: '≤ 150 MB', suite: 'idle-memory' },
] as const;

/** A line of the issue's Goals table. */
export type IssueGoalLine = (typeof ISSUE_GOALS)[number]['line'];

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
  /** The line of the issue's Goals table this figure is held to, if any. */
  issueGoal?: IssueGoalLine;
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

/**
 * Prints the issue's Goals table: each line with the figures held to it, or the suite that
 * measures it when that suite did not run (or failed).
 */
function printIssueGoals(figures: Figure[], failures: string[]): void {
  console.log('\n== issue #18 goals ==');
  const rows: string[][] = [];
  for (const { line, goal, suite } of ISSUE_GOALS) {
    const held = figures.filter((figure) => figure.issueGoal === line);
    if (held.length === 0) {
      const why = failures.includes(suite)
        ? `suite ${suite} failed`
        : `not run: npm run bench -- ${suite}`;
      rows.push([line, why, '', goal, '']);
      continue;
    }
    for (const [index, figure] of held.entries())
      rows.push([
        index === 0 ? line : '',
        figure.name,
        withUnit(figure.value, figure.unit),
        formatGoal(figure) || goal,
        verdict(figure),
      ]);
  }
  printTable(['goal line', 'figure', 'value', 'goal', ''], rows, new Set([2]));
}

/** Prints the key figures of every suite, the issue's Goals table, then how many goals were met. */
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
  printIssueGoals(figures, failures);
  console.log(`\ngoals met: ${met} of ${judged.length}`);
  for (const failure of failures) console.log(`suite failed (no figures): ${failure}`);
}
