/**
 * The edit distance of two strings (optimal string alignment: insertions, deletions,
 * substitutions and swaps of neighbours each cost one), so `intervall` is one from `interval`
 * and `tmie` one from `time`. Hand-written: a dependency for twenty lines is not worth its risk.
 */
export function editDistance(first: string, second: string): number {
  const width = second.length + 1;
  // distances[i * width + j]: between the first i characters of `first` and the first j of `second`.
  const distances = new Array<number>((first.length + 1) * width).fill(0);
  const at = (i: number, j: number) => distances[i * width + j] ?? 0;
  for (let i = 0; i <= first.length; i += 1) distances[i * width] = i;
  for (let j = 0; j <= second.length; j += 1) distances[j] = j;
  for (let i = 1; i <= first.length; i += 1) {
    for (let j = 1; j <= second.length; j += 1) {
      const cost = first[i - 1] === second[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      const swapped =
        i > 1 && j > 1 && first[i - 1] === second[j - 2] && first[i - 2] === second[j - 1];
      if (swapped) best = Math.min(best, at(i - 2, j - 2) + 1);
      distances[i * width + j] = best;
    }
  }
  return at(first.length, second.length);
}

/**
 * The candidate closest to what was written, or undefined when none is close enough: at most
 * one edit per three characters (at least one), so short names are not matched to anything.
 * Case is ignored, since `Interval` for `interval` is the same slip.
 */
export function closestName(written: string, candidates: Iterable<string>): string | undefined {
  const typed = written.toLowerCase();
  const allowed = Math.max(1, Math.floor(typed.length / 3));
  let closest: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === written) continue;
    const distance = editDistance(typed, candidate.toLowerCase());
    if (distance <= allowed && (closest === undefined || distance < closest.distance)) {
      closest = { name: candidate, distance };
    }
  }
  return closest?.name;
}

/** `; did you mean "interval"?` when a candidate is close to what was written, else empty. */
export function didYouMean(written: string, candidates: Iterable<string>): string {
  const closest = closestName(written, candidates);
  return closest === undefined ? '' : `; did you mean "${closest}"?`;
}
