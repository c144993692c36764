import { truncateText } from '../truncate-text.js';

/** Rows a query returned, as the model receives them. */
export interface QueryResult {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  row_count: number;
  /** True when more rows existed (or the output was too large) and some were left out. */
  truncated: boolean;
  note?: string;
}

/** A single text value longer than this is cut, so one large column cannot crowd out the rows. */
const MAX_CELL_CHARS = 2_000;
/** The whole result, serialised, stays under this. */
const MAX_OUTPUT_CHARS = 100_000;

const capCell = (value: unknown): unknown =>
  typeof value === 'string' ? truncateText(value, MAX_CELL_CHARS).text : value;

/** Caps rows: long text cells are cut, and rows are dropped from the end past the output size. */
export function queryResult(
  columns: string[],
  rows: Array<Record<string, unknown>>,
  moreRows: boolean,
  maxRows: number,
): QueryResult {
  const capped = rows.map((row) =>
    Object.fromEntries(Object.entries(row).map(([key, value]) => [key, capCell(value)])),
  );
  let size = JSON.stringify(columns).length;
  let kept = 0;
  for (const row of capped) {
    size += JSON.stringify(row).length + 1;
    if (size > MAX_OUTPUT_CHARS) break;
    kept += 1;
  }
  const dropped = capped.length - kept;
  const notes = [
    ...(moreRows ? [`only the first ${maxRows} rows are shown; add LIMIT/WHERE or aggregate`] : []),
    ...(dropped > 0
      ? [
          `${dropped} more rows were left out to keep the output under ${MAX_OUTPUT_CHARS} characters`,
        ]
      : []),
  ];
  return {
    columns,
    rows: capped.slice(0, kept),
    row_count: kept,
    truncated: moreRows || dropped > 0,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}
