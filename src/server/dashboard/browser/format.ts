export { formatUsd } from '../format-usd.js';

/** A count as the dashboard prints it (`1,234`), or `–` for none. */
export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : Number(value).toLocaleString('en-US');
}

/** A duration: `850 ms`, `2.50 s`, `12.0 s`, `3 min 5 s`, or `–` for none. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
}

/** An instant relative to now: `in 4 s`, `3 min ago`, `now`, or `–` for none. */
export function formatWhen(iso: string | null | undefined): string {
  if (!iso) return '–';
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  const size = Math.abs(seconds);
  if (size < 2) return 'now';
  const amount =
    size < 60
      ? size + ' s'
      : size < 3600
        ? Math.round(size / 60) + ' min'
        : size < 172800
          ? Math.round(size / 3600) + ' h'
          : Math.round(size / 86400) + ' d';
  return seconds >= 0 ? 'in ' + amount : amount + ' ago';
}

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const clockFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

/** A compact local time: the clock alone for today, with the date otherwise. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString()
    ? timeFormat.format(date)
    : dateTimeFormat.format(date);
}

/** Hours and minutes of an instant (ms), for chart axes. */
export function formatClock(ms: number): string {
  return clockFormat.format(new Date(ms));
}

/** Values as the dashboard prints them: pretty JSON, with undefined spelled out. */
export function formatJson(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
}

/** Text cut to `limit` characters, saying how much was left out (a page stays light with a huge result). */
export function clipText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  return text.slice(0, limit) + '… (' + formatNumber(text.length - limit) + ' more characters)';
}
