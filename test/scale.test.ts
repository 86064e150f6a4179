/**
 * Many environments: a command builds only the stacks it acts on; a full synthesis reuses the
 * units whose inputs did not change and writes exactly what a cold synthesis writes.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../lib/config/load.ts";
import { isPlainData, plainDataKey } from "../lib/config/load-cache.ts";
import { buildApp } from "../lib/stacks/app.ts";
import { synthesize } from "../lib/stacks/synth.ts";
import { cacheDirOf } from "../lib/stacks/synth-cache.ts";
import { formatSynthSummary } from "../lib/stacks/synth-summary.ts";
import { readTarget } from "../lib/stacks/target.ts";
import { estate, generatedName, writeEstate } from "./bench/scale-estate.ts";
import { sandbox } from "./support/envctl.ts";
import { REPO } from "./support/project.ts";

/** Every file under `dir`, path → bytes as text. */
function tree(dir: string): Map<string, string> {
  return new Map(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name))
      .sort()
      .map((f) => [f.slice(dir.length + 1), readFileSync(f, "utf8")]),
  );
}

const cacheEntries = (root: string) =>
  readdirSync(cacheDirOf(root, {}), { recursive: true }).filter((p) => String(p).endsWith("entry.json")).length;

describe("a command synthesizes only the environments it acts on", () => {
  it("stage and shift of dev build dev's stacks alone, byte for byte as a full synthesis writes them", async () => {
    const s = sandbox((dir) => writeEstate(dir, { total: 8, previews: 2 }));
    expect((await s.run(["stage", "dev", "--version", "1.6.0"])).status).toBe(0);
    expect((await s.run(["shift", "dev", "--to", "green", "--percent", "50"])).status).toBe(0);
    expect(s.calls()).toEqual(["deploy dev", "deploy dev-traffic"]);
    // what was built: dev's unit only (cdktf.out and the cache hold nothing else)
    const manifest = JSON.parse(readFileSync(join(s.dir, "cdktf.out/manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks).sort()).toEqual(["dev", "dev-traffic"]);
    expect(readdirSync(join(s.dir, "cdktf.out/stacks")).sort()).toEqual(["dev", "dev-traffic"]);
    expect(cacheEntries(s.dir)).toBe(2); // dev before and after the stage (its slot versions changed)

    const full = join(s.dir, "full.out");
    const { summary } = await synthesize(s.dir, {}, full, { cache: false });
    expect(summary.stacks.length).toBe(8 * 2 + 2 + 6 + 1); // 8 environments, 2 on EKS, 6 accounts, global
    for (const stack of ["dev", "dev-traffic"]) {
      const file = join("stacks", stack, "cdk.tf.json");
      expect(readFileSync(join(s.dir, "cdktf.out", file), "utf8")).toBe(readFileSync(join(full, file), "utf8"));
    }
  });
});

describe("incremental synthesis", () => {
  it("reuses unchanged units, rebuilds a changed one and writes what a cold synthesis writes", async () => {
    const dir = estate({ total: 7, previews: 1 });
    const out = join(dir, "cdktf.out");
    const first = await synthesize(dir, {}, out);
    expect(first.summary.built.length).toBe(first.summary.stacks.length);

    const second = await synthesize(dir, {}, out);
    expect(second.summary.built).toEqual([]);
    expect(second.summary.changed).toEqual([]);

    const name = generatedName(1);
    const file = join(dir, "environments", `${name}.ts`);
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(
        "  ...dev,\n",
        '  ...dev,\n  compute: { ...dev.compute, instanceType: "t3.small" },\n',
      ),
    );
    const third = await synthesize(dir, {}, out);
    // its own stacks, and global (it reads every permanent environment's configuration)
    expect(third.summary.built).toEqual([name, `${name}-traffic`, "global"]);
    expect(third.summary.changed).toEqual([name]);
    expect(formatSynthSummary(third.summary, "cdktf.out", 1234)).toMatch(
      new RegExp(
        `^synthesized 23 stacks \\(7 environment, 7 traffic, 2 workloads, 6 bootstrap, 1 global\\) into cdktf\\.out/ in 1\\.2 s, 3 built, 20 reused; changed 1: ${name}$`,
      ),
    );

    // cold: one app of every stack, as cdktf synthesizes it
    const cold = join(dir, "cold.out");
    const project = await loadProject(dir);
    buildApp(project, readTarget({}, dir), { outdir: cold }).synth();
    expect(tree(out)).toEqual(tree(cold));
  });

  it("worker processes write what one process writes", async () => {
    const dir = estate({ total: 20, previews: 2 }); // 39 units: 3 batches
    const out = join(dir, "workers.out");
    const { summary } = await synthesize(dir, {}, out, { cache: false, workers: 2 });
    expect(summary.built.length).toBe(summary.stacks.length);
    const single = join(dir, "single.out");
    buildApp(await loadProject(dir, { cache: false }), readTarget({}, dir), { outdir: single }).synth();
    expect(tree(out)).toEqual(tree(single));
  });

  it("a cache entry that was tampered with is rebuilt, never used", async () => {
    const dir = estate({ total: 4, previews: 0 });
    const out = join(dir, "cdktf.out");
    await synthesize(dir, {}, out);
    const cache = cacheDirOf(dir, {});
    const devFile = readdirSync(cache, { recursive: true })
      .map(String)
      .find((p) => p.endsWith(join("stacks", "dev", "cdk.tf.json")))!;
    writeFileSync(join(cache, devFile), "{}");
    const again = await synthesize(dir, {}, out);
    expect(again.summary.built).toEqual(["dev", "dev-traffic"]);
    expect(again.summary.changed).toEqual([]);
    // and a removed cache is a cold synthesis
    rmSync(cache, { recursive: true });
    expect((await synthesize(dir, {}, out)).summary.built.length).toBe(again.summary.stacks.length);
  });

  it("the target is part of the key: another target rebuilds everything", async () => {
    const dir = estate({ total: 4, previews: 0 });
    await synthesize(dir, {}, join(dir, "a.out"));
    const local = await synthesize(dir, { ENVSTACK_BACKEND: "local" }, join(dir, "b.out"));
    expect(local.summary.built.length).toBe(local.summary.stacks.length);
  });
});

describe("loading hundreds of environment files", () => {
  const plain = (code: string, fromLib = ["defineEnvironment"]) => isPlainData(code, new Set(fromLib));

  it("only plain data is reused without importing: no global, no call but defineEnvironment, no conditional", () => {
    for (const f of ["dev", "staging", "production", "_defaults"])
      expect(plainDataKey(join(REPO, "environments", `${f}.ts`), REPO), f).toBeDefined();
    expect(plain(`import dev from "";\nexport default defineEnvironment({ ...dev, name: "" });`)).toBe(true);
    for (const code of [
      `export default defineEnvironment({ ...dev, domain: process.env.X });`, // undeclared global
      `import dev from "";\nexport default defineEnvironment({ ...dev, n: Date.now() });`,
      `import dev from "";\nexport default { ...dev, n: dev.name.toUpperCase() };`, // a method call
      `import dev from "";\nexport default { ...dev, n: dev.x ? 1 : 2 };`,
      `import dev from "";\nexport default defineEnvironment({ ...dev, u: import.meta.url });`,
      `import dev from "";\nexport default defineEnvironment({ ...dev })();`,
      `import dev from "";\nexport default { ...dev, ...globalThis };`,
    ])
      expect(plain(code), code).toBe(false);
    expect(plain(`import { defineEnvironment } from "";\nexport default defineEnvironment({});`, [])).toBe(false);
  });

  it("a reused configuration synthesizes byte for byte as an imported one; an edit is a miss", async () => {
    const dir = estate({ total: 5, previews: 1 });
    const imported = await loadProject(dir, { cache: false });
    (await loadProject(dir)).storeLoadCache?.();
    const reused = await loadProject(dir);
    expect(JSON.stringify(reused.environments)).toBe(JSON.stringify(imported.environments));
    const a = join(dir, "a.out");
    const b = join(dir, "b.out");
    buildApp(imported, readTarget({}, dir), { outdir: a }).synth();
    buildApp(reused, readTarget({}, dir), { outdir: b }).synth();
    expect(tree(b)).toEqual(tree(a));
    const file = join(dir, "environments", `${generatedName(0)}.ts`);
    writeFileSync(file, readFileSync(file, "utf8").replace("...dev,", '...dev,\n  logLevel: "warn",'));
    const edited = await loadProject(dir);
    expect(edited.environments.find((e) => e.config.name === generatedName(0))!.config.logLevel).toBe("warn");
  });
});
