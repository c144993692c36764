/**
 * The styles of the operator inbox and of its link in every page's header, beside the
 * dashboard's stylesheet (`dashboard-styles.ts`) and in its manner: plain CSS, no framework.
 */
export const INBOX_STYLES = String.raw`
header.top .top-nav { display: flex; gap: 14px; font-size: 13px; }
header.top .top-nav a { color: #c9d2e3; }
header.top .top-nav a:hover { color: #fff; }
.inbox-count { display: inline-block; min-width: 18px; padding: 0 6px; margin-left: 2px; border-radius: 999px; background: #475069; color: #fff; font-size: 11px; font-weight: 700; text-align: center; }
.inbox-count.waiting { background: var(--amber); }
.inbox-count[hidden] { display: none; }
.count-chip { display: inline-block; min-width: 18px; padding: 0 6px; border-radius: 999px; background: var(--wash); border: 1px solid var(--line); font-size: 11px; text-align: center; color: var(--muted); }
.count-chip.waiting { background: #fff6e5; border-color: #f3d9a4; color: #6b4500; }
.toolbar input, .inbox-item input, .inbox-item textarea { font: inherit; font-size: 13px; padding: 4px 8px; border-radius: 4px; border: 1px solid #c5ccd8; background: #fff; color: var(--ink); }
.inbox-list { list-style: none; margin: 0; padding: 0; }
.inbox-list > li.empty { color: var(--muted); padding: 10px 2px; }
.inbox-item { border-top: 1px solid var(--line); padding: 12px 2px; }
.inbox-item:first-child { border-top: 0; }
.inbox-item.gone { opacity: .75; }
.inbox-item .head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
.inbox-item .head .what { font-weight: 600; }
.inbox-item .facts { color: var(--muted); font-size: 12px; }
.inbox-item code { font-family: ui-monospace, monospace; font-size: 12px; background: var(--wash); padding: 0 4px; border-radius: 3px; }
.inbox-item pre { max-height: 240px; margin-top: 2px; }
.inbox-item details { margin-top: 8px; }
.inbox-item summary { cursor: pointer; font-size: 12px; color: var(--accent); }
.inbox-item .decide { display: flex; flex-wrap: wrap; gap: 8px; align-items: flex-end; margin-top: 10px; }
.inbox-item .decide label { display: flex; flex-direction: column; gap: 2px; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.inbox-item .decide .note-field { flex: 1; min-width: 200px; }
.inbox-item .decide .amount-field input { width: 110px; }
.inbox-item textarea.edited-arguments { width: 100%; min-height: 90px; font-family: ui-monospace, monospace; font-size: 12px; margin-top: 4px; }
.inbox-item .inline-error { margin-top: 8px; padding: 6px 10px; border-radius: 6px; background: #fdecea; border: 1px solid #f5c2bd; color: #7a1f16; overflow-wrap: anywhere; }
.inbox-item .inline-error[hidden] { display: none; }
.conversation { list-style: none; margin: 6px 0 0; padding: 0; font-size: 13px; }
.conversation > li { border-left: 3px solid var(--line); padding: 4px 0 6px 10px; margin-bottom: 4px; }
.conversation > li.model { border-left-color: var(--accent); }
.conversation > li.tool { border-left-color: var(--amber); }
.conversation > li.bad { border-left-color: var(--red); }
.conversation .who { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.conversation .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.status-awaiting_budget, .status-awaiting_approval { color: var(--amber); }
`;
