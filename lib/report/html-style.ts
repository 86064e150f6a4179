/** The report page's style sheet (no external assets: the page is one self-contained file). */
export const CSS = `
:root { --blue: #2563eb; --green: #16a34a; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f8fafc; --warn: #b45309; --bad: #dc2626; --ok: #15803d; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 20px 32px 12px; background: #0f172a; color: #f8fafc; }
header h1 { margin: 0 0 4px; font-size: 20px; font-weight: 600; }
header p { margin: 0; color: #cbd5e1; font-size: 13px; }
main { padding: 20px 32px 40px; max-width: 1400px; }
h2 { font-size: 16px; margin: 28px 0 10px; }
section.graph { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px; overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.card h3 { margin: 0; font-size: 16px; display: flex; gap: 8px; align-items: center; }
.card .meta { color: var(--muted); font-size: 12px; margin: 2px 0 10px; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 1px 7px; border-radius: 999px; background: #e2e8f0; color: #334155; }
.tier-production { background: #fee2e2; color: #991b1b; }
.tier-staging { background: #fef3c7; color: #92400e; }
.tier-development { background: #dcfce7; color: #166534; }
.pass { background: #dcfce7; color: var(--ok); }
.fail { background: #fee2e2; color: var(--bad); }
.inconclusive, .warn { background: #fef3c7; color: var(--warn); }
.slot { display: grid; grid-template-columns: 64px 84px 1fr 48px; gap: 8px; align-items: center; margin: 4px 0; }
.slot .name { font-weight: 600; } .slot .pct { text-align: right; font-variant-numeric: tabular-nums; }
.bar { height: 12px; background: #f1f5f9; border-radius: 6px; overflow: hidden; }
.bar > span { display: block; height: 100%; }
.bar .blue { background: var(--blue); } .bar .green { background: var(--green); }
.block { margin-top: 10px; padding-top: 8px; border-top: 1px dashed var(--line); }
.label { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin-bottom: 4px; }
ol.steps { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; padding: 0; margin: 4px 0; }
ol.steps li { padding: 2px 10px; border-radius: 999px; font-size: 12px; border: 1px solid var(--line); color: var(--muted); }
ol.steps li.done { background: var(--ink); color: #fff; border-color: var(--ink); }
ol.steps li.current { border: 2px solid var(--warn); color: var(--warn); font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pending { margin-top: 8px; padding: 6px 8px; border-radius: 6px; background: #fee2e2; color: #7f1d1d; font-size: 12px; }
ul.reasons { margin: 4px 0; padding-left: 18px; font-size: 12px; }
table.evidence { margin-top: 6px; } td.crossed { color: var(--bad); font-weight: 600; } td.below { color: var(--muted); }
.requirement { margin: 6px 0 0; } .observed { margin-top: 6px; color: var(--warn); }
details summary { cursor: pointer; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
`;
