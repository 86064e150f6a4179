/** The promotion graph of the report: environments as nodes, promotions and rollback paths as edges (SVG). */
import { esc, slug } from "./html-text.ts";
import { graphLevels, type ReportData } from "./model.ts";

const NODE_W = 180;
const NODE_H = 64;
const GAP_X = 90;
const GAP_Y = 22;

/** `href`: where a node links (the report: its card's anchor; the console: its page); `current`: the one highlighted. */
export function graphSvg(
  d: Pick<ReportData, "environments" | "edges">,
  o: { href?: (name: string) => string; current?: string } = {},
): string {
  const href = o.href ?? ((n: string) => `#${slug(n)}`);
  const envs = d.environments;
  const levels = graphLevels(
    envs.map((e) => e.name),
    d.edges,
  );
  const columns: string[][] = [];
  for (const e of envs) {
    const level = levels.get(e.name)!;
    columns[level] = [...(columns[level] ?? []), e.name];
  }
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((col, c) => {
    col.forEach((n, r) => {
      pos.set(n, { x: 16 + c * (NODE_W + GAP_X), y: 16 + r * (NODE_H + GAP_Y) });
    });
  });
  const width = 32 + columns.length * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  const height = 32 + Math.max(...columns.map((c) => c.length)) * (NODE_H + GAP_Y) - GAP_Y + 28;
  const edges = d.edges
    .filter((e) => pos.has(e.from) && pos.has(e.to))
    .map((e) => {
      const a = pos.get(e.from)!;
      const b = pos.get(e.to)!;
      if (e.kind === "promotes") {
        const [x1, y1, x2, y2] = [a.x + NODE_W, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2];
        const mx = (x1 + x2) / 2;
        return (
          `<path class="edge" d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}" ` +
          `fill="none" stroke="#334155" stroke-width="1.6" marker-end="url(#arrow)"><title>${esc(e.from)} promotes into ${esc(e.to)}</title></path>`
        );
      }
      // rollback-only path: dashed, under the nodes, right to left
      const [x1, y1, x2, y2] = [a.x + NODE_W / 2, a.y + NODE_H, b.x + NODE_W / 2, b.y + NODE_H];
      const low = Math.max(y1, y2) + 24;
      return (
        `<path class="edge rollback" ` +
        `d="M${x1},${y1} C${x1},${low} ${x2},${low} ${x2},${y2 + 2}" fill="none" stroke="#b45309" ` +
        `stroke-width="1.4" stroke-dasharray="5 4" ` +
        `marker-end="url(#arrow-rollback)"><title>${esc(e.from)} may roll back into ${esc(e.to)} (--rollback)</title></path>`
      );
    });
  const nodes = envs.map((e) => {
    const p = pos.get(e.name)!;
    const live = e.slots.find((s) => s.live)!;
    const canary = e.slots.find((s) => !s.live && s.weight > 0);
    const fill = e.tier === "production" ? "#fef2f2" : e.tier === "staging" ? "#fffbeb" : "#f0fdf4";
    return (
      `<a href="${esc(href(e.name))}"><g class="node${e.name === o.current ? " current" : ""}" data-environment="${esc(e.name)}">
  <rect x="${p.x}" y="${p.y}" width="${NODE_W}" height="${NODE_H}" rx="8" fill="${fill}" ` +
      `stroke="${e.name === o.current ? "#0f172a" : "#94a3b8"}" stroke-width="${e.name === o.current ? 2.5 : 1}"/>
  <text x="${p.x + 12}" y="${p.y + 22}" font-size="14" font-weight="600" fill="#0f172a">${esc(e.name)}</text>
  <text x="${p.x + NODE_W - 12}" y="${p.y + 22}" font-size="11" text-anchor="end" fill="#64748b">${esc(e.tier)}</text>
  <text x="${p.x + 12}" y="${p.y + 42}" font-size="12" fill="#0f172a">${esc(live.slot)} ${esc(live.version ?? "-")} · ${live.weight} %</text>
  <text x="${p.x + 12}" y="${p.y + 57}" font-size="11" ` +
      `fill="${canary ? "#b45309" : "#64748b"}">${
        canary
          ? `canary ${esc(canary.slot)} ${esc(canary.version ?? "-")} · ${canary.weight} %`
          : e.rollout
            ? "rollout starting"
            : "no canary"
      }</text>
</g></a>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="promotion graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs>
  <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" ` +
    `orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334155"/></marker>
  <marker id="arrow-rollback" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" ` +
    `orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#b45309"/></marker>
</defs>
${edges.join("\n")}
${nodes.join("\n")}
</svg>`
  );
}

// ------------------------------------------------------------------ environment cards
