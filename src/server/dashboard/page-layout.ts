import { CLIENT_COMMON_SCRIPT } from './client-common-script.js';
import { DASHBOARD_STYLES } from './dashboard-styles.js';
import { html, constantElementText, type SafeHtml } from './html-template.js';

/** What one dashboard page puts in the shared layout. */
export interface PageContent {
  title: string;
  /** Whether the API needs a token (the page then asks for it); the token itself is never in a page. */
  tokenRequired: boolean;
  /** The nonce that lets this page's own style and script run under the Content-Security-Policy. */
  nonce: string;
  main: SafeHtml;
  script: string;
}

/** A complete dashboard page: header with the token form, notices, the page's content and scripts. */
export function renderPage(page: PageContent): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · Nightshift</title>
        <link rel="icon" href="data:," />
        <style nonce="${page.nonce}">
          ${constantElementText(DASHBOARD_STYLES)}
        </style>
      </head>
      <body data-token-required="${String(page.tokenRequired)}">
        <header class="top">
          <a class="brand" href="/">Nightshift <span>dashboard</span></a>
          <span id="live"></span>
          <span class="spacer"></span>
          <div id="auth"></div>
        </header>
        <main>
          <div id="notice" class="notice" role="status" hidden></div>
          ${page.main}
        </main>
        <script nonce="${page.nonce}">
          ${constantElementText(CLIENT_COMMON_SCRIPT)};
        </script>
        <script nonce="${page.nonce}">
          ${constantElementText(page.script)};
        </script>
      </body>
    </html> `.text;
}

/**
 * The Content-Security-Policy of every page: only this page's own nonce-bearing style and
 * scripts run, and they may talk only to this server. Injected markup, were any to slip
 * through, could neither run nor send data away.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
