import { DASHBOARD_STYLES } from './dashboard-styles.js';
import { DASHBOARD_VOCABULARY } from './dashboard-vocabulary.js';
import { html, constantElementText, type SafeHtml } from './html-template.js';
import { INBOX_STYLES } from './inbox-styles.js';

/** What every page is rendered with: the request's side of it. */
export interface PageRequest {
  /** Whether the API needs a token (the page then asks for it); the token itself is never in a page. */
  tokenRequired: boolean;
  /** The nonce that lets this page's own style and script run under the Content-Security-Policy. */
  nonce: string;
  /** The page's bundled browser script (`dashboardScripts()`). */
  script: string;
}

// Constant for the process: the words the scripts show, as the page's JSON data block.
const VOCABULARY_JSON = constantElementText(JSON.stringify(DASHBOARD_VOCABULARY));

/**
 * A complete dashboard page: header with the link to the inbox (its count filled in by the page's
 * script), the token form, notices, the page's content and script.
 */
export function renderPage(page: PageRequest, title: string, main: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Nightshift</title>
        <link rel="icon" href="data:," />
        <style nonce="${page.nonce}">
          ${constantElementText(DASHBOARD_STYLES + INBOX_STYLES)}
        </style>
      </head>
      <body data-token-required="${String(page.tokenRequired)}">
        <header class="top">
          <a class="brand" href="/">Nightshift <span>dashboard</span></a>
          <nav class="top-nav" aria-label="Dashboard">
            <a id="inbox-link" href="/inbox" data-role="inbox-link"
              >Inbox
              <span id="inbox-count" class="inbox-count" data-role="inbox-count" hidden></span
            ></a>
          </nav>
          <span id="live"></span>
          <span class="spacer"></span>
          <div id="auth"></div>
        </header>
        <main>
          <div id="notice" class="notice" role="status" hidden></div>
          ${main}
        </main>
        <script type="application/json" id="dashboard-vocabulary">
          ${VOCABULARY_JSON}
        </script>
        <script nonce="${page.nonce}">
          ${constantElementText(page.script)};
        </script>
      </body>
    </html> `.text;
}
