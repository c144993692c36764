import type { RunRecord } from '../../src/index.js';

/** Pairs of executed runs of one agent whose [started_at, ended_at] intervals overlap (promise 3). */
export function overlaps(runs: RunRecord[]): string[] {
  const executed = runs
    .filter((run) => run.started_at && run.ended_at && run.status !== 'skipped')
    .sort((a, b) => Date.parse(a.started_at ?? '') - Date.parse(b.started_at ?? ''));
  const problems: string[] = [];
  for (let index = 1; index < executed.length; index += 1) {
    const previous = executed[index - 1];
    const current = executed[index];
    if (
      previous &&
      current &&
      Date.parse(current.started_at ?? '') < Date.parse(previous.ended_at ?? '')
    ) {
      problems.push(`${previous.run_id} and ${current.run_id}`);
    }
  }
  return problems;
}
