/**
 * `npm run bench:synth`: wall time and peak memory of synthesizing every stack (target: ≤ 3 s,
 * ≤ 350 MB), then how time grows with 3 → 50 generated environments. Prints figures; asserts
 * nothing (speed is not a unit test).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPO, tempProject } from "../support/project.ts";

const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");

function measure(root: string, runs = 3) {
  const results = Array.from({ length: runs }, () => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [TSX, join(REPO, "test/bench/synth-child.ts"), root], {
      encoding: "utf8",
      cwd: root,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return {
      wallMs: performance.now() - t0,
      ...(JSON.parse(r.stdout) as { ms: number; maxRssMb: number; stacks: number }),
    };
  });
  results.sort((a, b) => a.wallMs - b.wallMs);
  return results[Math.floor(results.length / 2)]!; // median
}

/** A project with `n` environments: the shipped three plus generated EC2 ones derived from dev. */
function generated(n: number): string {
  return tempProject((dir) => {
    for (let i = 0; i < n - 3; i++) {
      const name = `gen${String(i).padStart(2, "0")}`;
      writeFileSync(
        join(dir, "environments", `${name}.ts`),
        `import { defineEnvironment } from "../lib/index.ts";
import dev from "./dev.ts";
export default defineEnvironment({ ...dev, name: "${name}", domain: "${name}.webapp.example.com", network: { ...dev.network, cidr: "10.${128 + i}.0.0/16" }, release: { ...dev.release, promotesTo: [] } });
`,
      );
      writeFileSync(
        join(dir, "environments/releases", `${name}.json`),
        JSON.stringify({
          environment: name,
          live: "blue",
          slots: { blue: { version: "1.0.0", weight: 100 }, green: { version: null, weight: 0 } },
        }),
      );
    }
  });
}

const fmt = (m: { wallMs: number; ms: number; maxRssMb: number; stacks: number }) =>
  `${m.stacks} stacks: wall ${(m.wallMs / 1000).toFixed(2)} s (in-process ${(m.ms / 1000).toFixed(2)} s), peak RSS ${m.maxRssMb.toFixed(0)} MB`;

const shipped = measure(REPO);
console.log(`synth of the shipped project (median of 3): ${fmt(shipped)}`);
console.log(
  `  targets: wall ≤ 3 s → ${shipped.wallMs <= 3000 ? "met" : "MISSED"}; peak ≤ 350 MB → ${shipped.maxRssMb <= 350 ? "met" : "MISSED"}`,
);

console.log("\ngrowth with generated environments (median of 3 each):");
let previous: { n: number; ms: number } | undefined;
for (const n of [3, 10, 25, 50]) {
  const m = measure(n === 3 ? REPO : generated(n));
  const perEnv = previous ? ` (+${((m.ms - previous.ms) / (n - previous.n)).toFixed(0)} ms per added environment)` : "";
  console.log(`  ${String(n).padStart(2)} environments, ${fmt(m)}${perEnv}`);
  previous = { n, ms: m.ms };
}

if (process.argv.includes("--compare-root-import")) {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      "await import('@cdktf/provider-aws'); console.log(process.resourceUsage().maxRSS / 1024)",
    ],
    { cwd: REPO, encoding: "utf8" },
  );
  console.log(
    `\nfor comparison, importing the root of @cdktf/provider-aws alone: ${((performance.now() - t0) / 1000).toFixed(2)} s, peak RSS ${Number(r.stdout).toFixed(0)} MB`,
  );
}
