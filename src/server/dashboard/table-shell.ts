import { html, type SafeHtml } from './html-template.js';

/** A column heading; a numeric column is right-aligned. */
export type Column = string | { label: string; numeric: true };

/** A numeric column. */
export const numeric = (label: string): Column => ({ label, numeric: true });

/**
 * An empty table as a page first shows it: the headings, and one "Loading…" row that the
 * page's script replaces with the rows it reads.
 */
export function tableShell(options: {
  id: string;
  bodyId: string;
  columns: readonly Column[];
}): SafeHtml {
  const headings = options.columns.map((column) =>
    typeof column === 'string'
      ? html`<th>${column}</th>`
      : html`<th class="num">${column.label}</th>`,
  );
  return html`<table id="${options.id}">
    <thead>
      <tr>
        ${headings}
      </tr>
    </thead>
    <tbody id="${options.bodyId}">
      <tr>
        <td colspan="${options.columns.length}" class="empty">Loading…</td>
      </tr>
    </tbody>
  </table>`;
}
