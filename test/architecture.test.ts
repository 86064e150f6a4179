/**
 * The layering of lib/ (ARCHITECTURE.md), checked on the import statements of every lib/**\/*.ts:
 * static imports and re-exports (type-only ones count), side-effect imports and dynamic imports.
 *
 * - lib/release imports only lib/core, its own files and lib/fsutil (plus npm packages and node:
 *   builtins): the release knows the outside world only through its ports (lib/release/ports/).
 * - lib/core and lib/fsutil import nothing of lib/ but themselves.
 * - Only lib/cli wires in the adapters of lib/aws; the other entry points allowed to are the
 *   script shells of lib/engine (`npm run demo` and the end-to-end tests' synthetic traffic), which
 *   drive a local emulator and are no part of envctl.
 * - There is no import cycle between the folders of lib/ (each folder directly under lib/ is one node).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = resolve(import.meta.dirname, "..");
const LIB = join(REPO, "lib");

/** Entry points outside lib/cli allowed to import lib/aws (script shells, see above). */
const AWS_WIRING_SHELLS = ["lib/demo/demo.ts", "lib/demo/synthetic-traffic.ts"];

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === "node_modules" ? [] : tsFiles(p);
    return d.name.endsWith(".ts") && !d.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** The module specifiers a file imports (comments removed first, so prose never counts). */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?)\s+from\s+["']([^"']+)["']/g, // import x from, import { a } from, export * from, export { a } from
    /\bimport\s+["']([^"']+)["']/g, // side effect
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, // dynamic
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]!);
  return specs;
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Every import of lib/ that resolves to a file of lib/ (repository-relative paths). */
function libImports(): Edge[] {
  return tsFiles(LIB).flatMap((file) =>
    importsOf(readFileSync(file, "utf8"))
      .filter((s) => s.startsWith("."))
      .map((s) => ({ from: relative(REPO, file), to: relative(REPO, resolve(dirname(file), s)) }))
      .filter((e) => e.to.startsWith("lib/")),
  );
}

/** The node of a file in the folder graph: its folder directly under lib/. */
function folderOf(path: string): string {
  const parts = path.split("/");
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, "");
}

/** Cycles of the folder graph, each as a path `a → b → a` with, per edge, one import that makes it. */
function folderCycles(edges: readonly Edge[]): string[] {
  const graph = new Map<string, Map<string, Edge>>();
  for (const e of edges) {
    const [a, b] = [folderOf(e.from), folderOf(e.to)];
    if (a === b) continue;
    if (!graph.has(a)) graph.set(a, new Map());
    if (!graph.get(a)!.has(b)) graph.get(a)!.set(b, e);
  }
  // Tarjan's strongly connected components; one shortest cycle through each component's first node.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) components.push(c.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return components.flatMap((c) => {
    const inside = new Set(c);
    // Every folder pair of the component that imports each other both ways, then, if none, one longer cycle.
    const pairs = c.flatMap((a) =>
      c.filter((b) => a < b && graph.get(a)?.has(b) && graph.get(b)?.has(a)).map((b) => [a, b, a]),
    );
    const paths = pairs.length > 0 ? pairs : [shortestCycle(graph, c[0]!, inside)];
    return paths.map((p) =>
      p
        .slice(1)
        .map((to, i) => {
          const e = graph.get(p[i]!)!.get(to)!;
          return `${p[i]} → ${to} (${e.from} imports ${e.to})`;
        })
        .join(", "),
    );
  });
}

function shortestCycle(graph: Map<string, Map<string, Edge>>, start: string, inside: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x: string | undefined = v; x !== undefined && x !== start; x = prev.get(x)) path.unshift(x);
        return [start, ...path.slice(1), start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

describe("architecture: what may import what (ARCHITECTURE.md)", () => {
  const edges = libImports();

  it("reads the imports of every form", () => {
    expect(
      importsOf(
        `import a from "./a.ts";\nimport type { B } from "./b.ts";\nimport {\n  c,\n  type D,\n} from "./c.ts";\nexport { e } from "./e.ts";\nexport * from "./f.ts";\nimport "./g.ts";\nconst h = await import("./h.ts");\n// import x from "./comment.ts";\n/** import y from "./doc.ts" */`,
      ),
    ).toEqual(["./a.ts", "./b.ts", "./c.ts", "./e.ts", "./f.ts", "./g.ts", "./h.ts"]);
    expect(edges.length).toBeGreaterThan(200);
  });

  it("lib/release imports only lib/core, its own files and lib/fsutil", () => {
    const allowed = (to: string) =>
      to.startsWith("lib/release/") || to.startsWith("lib/core/") || to.startsWith("lib/fsutil/");
    expect(
      edges.filter((e) => e.from.startsWith("lib/release/") && !allowed(e.to)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("lib/core and lib/fsutil import nothing else of lib/", () => {
    expect(
      edges
        .filter((e) => e.from.startsWith("lib/core/") && !e.to.startsWith("lib/core/"))
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
    expect(
      edges
        .filter((e) => e.from.startsWith("lib/fsutil/") && !e.to.startsWith("lib/fsutil/"))
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it(`only lib/cli wires in the adapters of lib/aws (and the script shells ${AWS_WIRING_SHELLS.join(", ")})`, () => {
    const wires = (from: string) =>
      from.startsWith("lib/cli/") || from.startsWith("lib/aws/") || AWS_WIRING_SHELLS.includes(from);
    expect(
      edges.filter((e) => e.to.startsWith("lib/aws/") && !wires(e.from)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("lib/notify (the notifications' adapter) imports only the release's ports and events and its own config section; only lib/cli wires it (lib/aws may name its SNS interface)", () => {
    const allowed = (to: string) =>
      to.startsWith("lib/notify/") ||
      to.startsWith("lib/release/ports/") ||
      to === "lib/release/model/events.ts" ||
      to === "lib/config/schema/notify.ts";
    expect(
      edges.filter((e) => e.from.startsWith("lib/notify/") && !allowed(e.to)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
    const wires = (from: string) =>
      from.startsWith("lib/cli/") || from.startsWith("lib/notify/") || from.startsWith("lib/aws/");
    expect(
      edges.filter((e) => e.to.startsWith("lib/notify/") && !wires(e.from)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("lib/kube (the Kubernetes API adapter) imports only the release's ports, the primitives and the workload names; only lib/cli wires it", () => {
    const allowed = (to: string) =>
      to.startsWith("lib/kube/") ||
      to.startsWith("lib/release/ports/") ||
      to.startsWith("lib/core/") ||
      to === "lib/constructs/workloads/names.ts";
    expect(
      edges.filter((e) => e.from.startsWith("lib/kube/") && !allowed(e.to)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
    expect(
      edges
        .filter(
          (e) => e.to.startsWith("lib/kube/") && !e.from.startsWith("lib/cli/") && !e.from.startsWith("lib/kube/"),
        )
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("lib/database (the database's adapter) imports only lib/release and the primitives; only lib/cli wires it", () => {
    const allowed = (to: string) =>
      to.startsWith("lib/database/") || to.startsWith("lib/release/") || to.startsWith("lib/core/");
    expect(
      edges.filter((e) => e.from.startsWith("lib/database/") && !allowed(e.to)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
    const wires = (from: string) => from.startsWith("lib/cli/") || from.startsWith("lib/database/");
    expect(
      edges.filter((e) => e.to.startsWith("lib/database/") && !wires(e.from)).map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("lib/ui (the console) imports no lib/cli; only lib/cli/commands/ui.ts imports it", () => {
    expect(
      edges
        .filter((e) => e.from.startsWith("lib/ui/") && e.to.startsWith("lib/cli/"))
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
    expect(
      edges
        .filter(
          (e) => e.to.startsWith("lib/ui/") && !e.from.startsWith("lib/ui/") && e.from !== "lib/cli/commands/ui.ts",
        )
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("nothing below lib/cli imports lib/cli", () => {
    expect(
      edges
        .filter((e) => e.to.startsWith("lib/cli/") && !e.from.startsWith("lib/cli/"))
        .map((e) => `${e.from} imports ${e.to}`),
    ).toEqual([]);
  });

  it("no TypeScript file of lib/ is over 300 lines, no line over 160 characters", () => {
    const files = tsFiles(LIB).map((f) => ({ file: relative(REPO, f), lines: readFileSync(f, "utf8").split("\n") }));
    expect(files.filter((f) => f.lines.length > 301).map((f) => `${f.file}: ${f.lines.length - 1} lines`)).toEqual([]);
    expect(
      files.flatMap((f) => f.lines.flatMap((l, i) => (l.length > 160 ? [`${f.file}:${i + 1}: ${l.length}`] : []))),
    ).toEqual([]);
  });

  it("there is no import cycle between the folders of lib/", () => {
    expect(folderCycles(edges)).toEqual([]);
  });
});
