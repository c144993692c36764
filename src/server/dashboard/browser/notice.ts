import { byId } from './dom.js';

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

/** How a notice stays: `error` and `sticky` stay until cleared, others fade after 4 s. */
export type NoticeKind = 'info' | 'error' | 'sticky';

/** Shows a message in the page's notice bar. */
export function notify(message: string, kind: NoticeKind = 'info'): void {
  const notice = byId('notice');
  notice.textContent = message;
  notice.className = 'notice' + (kind === 'error' ? ' error' : '');
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (kind === 'info') noticeTimer = setTimeout(() => (notice.hidden = true), 4000);
}

/** Hides the notice bar. */
export function clearNotice(): void {
  byId('notice').hidden = true;
}

/** The message of something thrown (API calls reject with an `Error` of the API's message). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Reports a failed load, unless it failed for want of a token (the token form says so then). */
export function reportFailure(prefix: string, error: unknown): void {
  const message = errorMessage(error);
  if (message !== UNAUTHORIZED) notify(prefix + message, 'error');
}

/** The message an API call rejects with when the token was refused. */
export const UNAUTHORIZED = 'unauthorized';
