// Imports nothing: the dashboard's browser scripts and the CLI print money with the same rule.

/**
 * An amount in US dollars as Nightshift prints it: 2 decimals from $1 (`$1.23`, `$1,234.50`),
 * up to 4 below (`$0.0004`, `$0.0123`, `$0.75`), and to the millionth it is counted in when 4
 * decimals would read as nothing (`$0.000042`, `$0.00004`). Zero is `$0.00`.
 */
export function formatUsd(usd: number): string {
  const size = Math.abs(usd);
  const sign = usd < 0 ? '-' : '';
  // What rounds to a dollar or more is printed to the cent.
  const cents = size === 0 || Math.round(size * 1e4) >= 1e4;
  const text = size.toLocaleString('en-US', {
    minimumFractionDigits: 2,
    maximumFractionDigits: cents ? 2 : size >= 0.00005 ? 4 : 6,
  });
  return sign + '$' + text;
}
