/**
 * The dashboard's stylesheet (allowed by hash in the CSP): light and dark
 * colour schemes, state colours, tables, sparklines and banners.
 */

/** STYLE is the page's only stylesheet (allowed by hash in the CSP). */
export const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #bc4c00; --idle: #6e7781; --line: #d0d7de; --muted: #57606a; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --bad: #f85149; --warn: #db6d28; --idle: #8b949e; --line: #30363d; --muted: #8b949e; } }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 0 1.5rem 2rem; }
header { display: flex; align-items: baseline; gap: 1rem; border-bottom: 1px solid var(--line); padding: .75rem 0; }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0; display: inline; }
.muted, #refreshed { color: var(--muted); }
#status::before { content: "\\25CF  "; }
#status[data-status=live] { color: var(--ok); }
#status[data-status=error], #status[data-status=unauthorized] { color: var(--bad); }
#status[data-status=connecting] { color: var(--idle); }
form#auth { margin: 1rem 0; padding: .75rem; border: 1px solid var(--bad); border-radius: 6px; display: flex; gap: .5rem; align-items: center; }
form#auth[hidden] { display: none; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
#config-rejected[data-rejected=true] { color: var(--bad); }
#config-rejected[data-superseded=true] { color: var(--idle); }
#config-rejected-errors[data-superseded=true] { color: var(--idle); text-decoration: line-through; }
#restart-required { margin: 1rem 0; padding: .75rem; border: 1px solid var(--warn); border-left-width: 6px; border-radius: 6px; }
#restart-required[hidden] { display: none; }
#config-last-change-list .flag { color: var(--warn); font-weight: 600; }
#restart-required strong { color: var(--warn); }
#restart-required ul { margin: .25rem 0 0; padding-left: 1.25rem; }
#gateway-panel dl { margin-bottom: .5rem; }
.cert-expiring { color: var(--warn); font-weight: 600; }
.cert-expired, .store-down { color: var(--bad); font-weight: 600; }
.store-up { color: var(--ok); }
svg.spark { vertical-align: middle; overflow: visible; }
svg.spark polyline { fill: none; stroke-width: 1.5; }
svg.spark .spark-req { stroke: var(--ok); }
svg.spark .spark-err { stroke: var(--bad); }
button.drain { font: inherit; font-size: 12px; padding: .1rem .5rem; cursor: pointer; }
#action-message { color: var(--bad); }
#config-rejected-errors { margin: .25rem 0 0; padding-left: 1.25rem; color: var(--bad); font-family: ui-monospace, monospace; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.upstream { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; margin: .75rem 0; }
.upstream .meta { margin-left: .75rem; }
.upstream .traffic { float: right; }
.upstream table { margin-top: .5rem; }
.upstream .discovery { margin: .25rem 0 0; }
.state { font-weight: 600; white-space: nowrap; }
.state::before { content: "\\25CF  "; }
.state-healthy { color: var(--ok); }
.state-unhealthy { color: var(--bad); }
.state-ejected { color: var(--warn); }
.state-draining { color: var(--idle); }
.panic { color: var(--bad); font-weight: 600; margin-left: .5rem; }
.check-fail { color: var(--bad); }
.empty { color: var(--muted); font-style: italic; }
`;
