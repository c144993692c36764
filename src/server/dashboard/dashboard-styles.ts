/** The dashboard's stylesheet: plain CSS, light, readable, no framework. */
export const DASHBOARD_STYLES = String.raw`
:root {
  --ink: #1d2330; --muted: #5f6b7a; --line: #e3e7ee; --paper: #ffffff; --wash: #f5f7fa;
  --accent: #2f5fd0; --green: #1f8a4c; --amber: #b26b00; --red: #c0392b; --gray: #6b7280; --blue: #2f5fd0;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px; color: var(--ink);
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--wash); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 16px; padding: 10px 24px; background: var(--ink); color: #fff; }
header.top .brand { color: #fff; font-weight: 700; font-size: 16px; letter-spacing: .02em; }
header.top .brand span { color: #9fb4ff; font-weight: 400; }
header.top .spacer { flex: 1; }
#auth form { display: flex; gap: 6px; }
#auth input { padding: 5px 8px; border-radius: 4px; border: 1px solid #475069; background: #2a3142; color: #fff; width: 220px; }
#auth .saved { color: #c9d2e3; font-size: 13px; }
#auth button { font-size: 12px; }
#live { font-size: 12px; color: #c9d2e3; }
#live::before { content: "●"; margin-right: 4px; color: var(--gray); }
#live.on::before { color: #4ade80; }
main { padding: 20px 24px 40px; max-width: 1280px; margin: 0 auto; }
h1 { font-size: 20px; margin: 0; }
h2 { font-size: 15px; margin: 0 0 10px; }
.toolbar { display: flex; align-items: center; gap: 14px; margin-bottom: 14px; flex-wrap: wrap; }
.toolbar .spacer { flex: 1; }
.toolbar[hidden] { display: none; }
.toolbar input[type="text"] { font: inherit; padding: 4px 6px; border-radius: 4px; border: 1px solid #c5ccd8; min-width: 220px; }
.tag { display: inline-block; padding: 0 6px; margin-right: 4px; border-radius: 4px; font-size: 11px; background: var(--wash); border: 1px solid var(--line); color: var(--muted); }
.crumbs { color: var(--muted); margin-bottom: 8px; font-size: 13px; }
.notice { margin: 0 0 14px; padding: 8px 12px; border-radius: 6px; background: #eef3ff; border: 1px solid #cdd9fb; }
.notice.error { background: #fdecea; border-color: #f5c2bd; color: #7a1f16; }
.notice[hidden] { display: none; }
.panel { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin-bottom: 16px; }
.panel.flush { padding: 0; overflow: hidden; }
table { width: 100%; border-collapse: collapse; background: var(--paper); }
.panel table { border: 0; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; background: var(--wash); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.empty { color: var(--muted); text-align: center; padding: 24px; }
td.clip { max-width: 360px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tr:hover td { background: #fafbfd; }
.state, .status { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; }
.state-active, .status-completed { color: var(--green); }
.state-paused, .status-skipped, .status-pending { color: var(--amber); }
.state-stopped, .status-cancelled, .status-interrupted { color: var(--gray); }
.state-created, .status-running { color: var(--blue); }
.status-failed, .status-timed_out, .status-budget_exceeded, .state-invalid { color: var(--red); }
.muted { color: var(--muted); }
button { font: inherit; font-size: 12px; padding: 4px 10px; border-radius: 4px; border: 1px solid #c5ccd8; background: #fff; color: var(--ink); cursor: pointer; }
button:hover { border-color: var(--accent); color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
.actions { display: flex; gap: 6px; flex-wrap: wrap; }
select { font: inherit; padding: 4px 6px; border-radius: 4px; border: 1px solid #c5ccd8; background: #fff; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 16px; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card .value { font-size: 18px; font-weight: 600; margin-top: 2px; overflow-wrap: anywhere; }
.card .value.small { font-size: 13px; font-weight: 500; }
.grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } }
pre { margin: 0; font-size: 12px; background: var(--wash); border-radius: 6px; padding: 10px; overflow: auto; max-height: 360px; }
ol.plain { margin: 0; padding-left: 20px; }
ol.plain li { padding: 2px 0; font-variant-numeric: tabular-nums; }
.event-log { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow: auto; font-size: 12px; }
.event-log.tall { max-height: 640px; }
.event-log li { padding: 0 2px; border-bottom: 1px solid var(--line); }
.event-log li.empty { color: var(--muted); padding: 4px 2px; }
.event-log summary { display: grid; grid-template-columns: 58px 188px minmax(0, 1fr) auto; gap: 8px; padding: 4px 0; cursor: pointer; list-style: none; }
.event-log summary::-webkit-details-marker { display: none; }
.event-log summary:hover { background: #fafbfd; }
.event-log details[open] summary { background: #f3f6fc; }
.event-log .type { font-family: ui-monospace, monospace; color: var(--accent); overflow: hidden; text-overflow: ellipsis; }
.event-log .type.bad { color: var(--red); }
.event-log .summary { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.event-log .run-link { white-space: nowrap; }
.event-log pre.payload { margin: 2px 0 8px; max-height: 300px; }
.chart { margin-bottom: 12px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .duration { stroke: var(--accent); fill: none; stroke-width: 2; }
.chart .tokens { stroke: var(--amber); fill: none; stroke-width: 2; stroke-dasharray: 5 3; }
.chart .dot-duration { fill: var(--accent); }
.chart .dot-tokens { fill: var(--amber); }
.chart .axis { stroke: #9aa5b5; }
.chart .grid { stroke: var(--line); }
.chart text { font-size: 11px; fill: var(--muted); }
.chart .axis-title { font-size: 11px; fill: var(--ink); }
.chart .dot-failed { fill: var(--red); stroke: #fff; stroke-width: 1.5; }
.chart .failed-mark { stroke: var(--red); stroke-width: 1; stroke-dasharray: 3 3; opacity: .6; }
.chart .partial { fill: #eef0f4; }
.chart .partial-label { font-size: 11px; fill: var(--muted); }
.chart .empty-label { font-size: 13px; fill: var(--muted); }
.chart .bar-completed { fill: var(--green); }
.chart .bar-failed { fill: var(--red); }
.chart .bar-timed_out { fill: #e0674f; }
.chart .bar-budget_exceeded { fill: #a2226c; }
.chart .bar-interrupted { fill: #9b6b5a; }
.chart .bar-cancelled { fill: var(--gray); }
.chart .bar-skipped { fill: #e0b04c; }
.chart .bar-failures { fill: var(--red); }
.chart .bar-count { font-size: 11px; fill: var(--ink); }
.legend { display: flex; gap: 16px; font-size: 12px; color: var(--muted); margin: 4px 0 10px; }
.legend .swatch { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
.legend .swatch.duration { background: var(--accent); }
.legend .swatch.tokens { background: var(--amber); }
.legend .swatch.failed { background: var(--red); height: 8px; width: 8px; border-radius: 50%; }
.legend .swatch.block { height: 10px; width: 10px; border-radius: 2px; }
.legend .swatch.bar-completed { background: var(--green); }
.legend .swatch.bar-failed { background: var(--red); }
.legend .swatch.bar-timed_out { background: #e0674f; }
.legend .swatch.bar-budget_exceeded { background: #a2226c; }
.legend .swatch.bar-interrupted { background: #9b6b5a; }
.legend .swatch.bar-cancelled { background: var(--gray); }
.legend .swatch.bar-skipped { background: #e0b04c; }
.overview-grid { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 3fr); gap: 16px; }
@media (max-width: 900px) { .overview-grid { grid-template-columns: 1fr; } }
.panel-head { display: flex; align-items: center; gap: 10px; margin-bottom: 6px; }
.panel-head h2 { margin: 0; }
.panel-head .spacer { flex: 1; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; font-size: 12px; }
.card .value.bad { color: var(--red); }
.card .note { font-size: 11px; color: var(--muted); margin-top: 2px; }
ul.plain { margin: 0; padding-left: 0; list-style: none; }
ul.plain li { padding: 3px 0; border-bottom: 1px solid var(--line); font-size: 13px; overflow-wrap: anywhere; }
ul.plain li:last-child { border-bottom: 0; }
.notice.warning { background: #fff6e5; border-color: #f3d9a4; color: #6b4500; }
.pager { display: flex; gap: 10px; font-size: 13px; }
.pager .disabled { color: var(--muted); }
.timeline { list-style: none; margin: 0; padding: 0; }
.timeline > li { border-left: 3px solid var(--line); padding: 6px 0 8px 12px; margin-left: 4px; position: relative; }
.timeline > li::before { content: ""; position: absolute; left: -7px; top: 11px; width: 11px; height: 11px; border-radius: 50%; background: var(--paper); border: 2px solid var(--gray); }
.timeline > li.model_call::before { border-color: var(--accent); }
.timeline > li.tool_call::before { border-color: var(--amber); }
.timeline > li.bad::before { border-color: var(--red); background: var(--red); }
.timeline > li.resume { border-left-style: dashed; border-left-color: var(--accent); }
.timeline > li.resume::before { border-radius: 2px; transform: rotate(45deg); border-color: var(--accent); background: var(--accent); }
.timeline > li.unknown::before { border-color: var(--amber); background: var(--amber); }
.timeline .outcome { font-size: 12px; margin-top: 2px; }
.timeline li.bad .outcome { color: var(--red); }
.timeline li.unknown .outcome { color: var(--amber); font-weight: 600; }
.timeline .calls, .timeline .note { font-size: 12px; color: var(--muted); margin-top: 4px; }
.timeline .head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; }
.timeline .head .what { font-weight: 600; }
.timeline .head .facts { color: var(--muted); font-size: 12px; }
.panel .label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 8px 0 3px; }
.panel .label:first-child { margin-top: 0; }
h2 .muted { font-weight: 400; font-size: 12px; }
.timeline pre { max-height: 240px; }
.timeline .error { color: var(--red); margin-top: 4px; overflow-wrap: anywhere; }
.timeline .attempt-divider { border-left-color: transparent; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; padding-top: 10px; }
.timeline .attempt-divider::before { display: none; }
.error-text { color: var(--red); overflow-wrap: anywhere; }
.budgets { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 10px 24px; margin-bottom: 6px; }
.budget-head { display: flex; flex-wrap: wrap; gap: 8px; align-items: baseline; font-size: 13px; margin-bottom: 3px; }
.budget-head .owner { font-weight: 600; }
.budget-bar { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 8px; align-items: center; margin: 2px 0; }
.budget-bar .meter { width: 100%; height: 10px; display: block; border-radius: 3px; }
.budget-bar .track { fill: var(--wash); stroke: var(--line); stroke-width: .5; }
.budget-bar .spent { fill: var(--accent); }
.budget-bar .held { fill: #9fb4ff; }
.budget-bar .limit-mark { fill: var(--ink); }
.budget-bar.full .spent { fill: var(--red); }
.budget-bar .figures { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.budget-bar.full .figures { color: var(--red); }
#run-replay[hidden] { display: none; }
.replay-form { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-top: 8px; }
.replay-form .label { margin: 0; }
table.replay-diff td { vertical-align: top; }
table.replay-diff td.side { max-width: 360px; overflow-wrap: anywhere; }
table.replay-diff tr.same td.verdict { color: var(--green); }
table.replay-diff tr.differs td.verdict { color: var(--red); font-weight: 600; }
table.replay-diff tr.first-divergence td { background: #fdecea; }
table.replay-diff ul.differences { margin: 0; padding-left: 16px; }
p.diverged { color: var(--red); }
`;
