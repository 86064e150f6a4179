/**
 * The documentation's promises: the README's two commands are exactly what CI runs and `npm test`
 * sets its engine up by itself; the example session (docs/getting-started.md) runs as written (each
 * `$ npx envctl` line, in process, against fakes of the ALB, CloudWatch and the clock; the output
 * lines it shows appear); the README stays short and reaches every page of docs/; every relative
 * link resolves, anchors included; the folder list of lib/ and the emulator-gap table match the tree.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { EMULATOR_GAPS } from "../lib/stacks/local-gaps.ts";
import { envctlInProcess } from "./support/envctl-deps.ts";
import { metrics, steady } from "./support/fakes.ts";
import { REPO } from "./support/project.ts";

const read = (file: string) => readFileSync(join(REPO, file), "utf8");

/** The first ```sh block after the heading that starts with `heading` in `file`. */
function shBlock(file: string, heading: string): string[] {
  const text = read(file);
  const at = text.indexOf(`\n${heading}`);
  expect(at, `${file}: ${heading}`).toBeGreaterThan(-1);
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
  return block.split("\n").filter((l) => l.trim() !== "");
}
const withoutComment = (line: string) => line.replace(/\s+#.*$/, "").trim();
/** A line of output as the docs show it: `[…] ` stands for the timestamp, `…` for text left out. */
function shownPattern(line: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const body = line.startsWith("[…] ") ? line.slice(4) : line;
  return new RegExp(`^${line.startsWith("[…] ") ? "\\[[^\\]]+\\] " : ""}${body.split("…").map(esc).join(".*?")}$`, "m");
}

describe("README: the newcomer's two commands", () => {
  it("are exactly what CI (.ci/run) runs, in order; npm test sets up the engine, Chromium and savvi first", () => {
    const commands = shBlock("README.md", "## Newcomer: two commands").map(withoutComment);
    expect(commands).toEqual(["npm ci && npm run synth", "npm test"]);
    const ci = read(".ci/run")
      .split("\n")
      .map((l) => l.trim())
      .filter(
        (l) => l && !l.startsWith("#") && !l.startsWith("echo ") && !l.startsWith("set ") && !l.startsWith("cd "),
      );
    // first Node 24 (installed from the npm registry when the machine's is older), then the two commands
    expect(ci).toEqual(["source .ci/node.sh", ...commands]);
    const scripts = JSON.parse(read("package.json")).scripts;
    expect(scripts.pretest).toBe("npm run --silent setup");
    expect(scripts.setup).toBe(
      "bash lib/engine/setup-engine.sh && bash lib/engine/setup-migrate.sh && bash lib/report/setup-chromium.sh && bash test/support/setup-savvi.sh",
    );
    expect(scripts.synth).toBe("tsx main.ts");
    // getting started shows the same two commands
    expect(shBlock("docs/getting-started.md", "## Install and test").map(withoutComment)).toEqual(commands);
  });

  it("test:unit leaves out every end-to-end file and test:e2e runs exactly those", () => {
    const scripts = JSON.parse(read("package.json")).scripts;
    const e2e = readdirSync(join(REPO, "test")).filter((f) => /^e2e.*\.test\.ts$/.test(f));
    expect(e2e.length).toBeGreaterThanOrEqual(8);
    expect(scripts["test:unit"]).toContain("--exclude 'test/e2e*.test.ts'");
    expect(scripts["test:e2e"]).toMatch(/ test\/e2e$/);
  });
});

describe("the example session (docs/getting-started.md) runs as written", () => {
  it("every `$ npx envctl` line exits as shown, and the lines it shows are printed", async () => {
    const lines = shBlock("docs/getting-started.md", "## Example session");
    // As the release workflow runs it: production's two approvals come from the platform (Accounts and approvals).
    const s = envctlInProcess({
      runAs: {
        GITHUB_ACTOR: "",
        USER: "you",
        CI: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_NOSYSTEM: "1",
      },
      ci: { author: "you", actor: "" },
    });
    // healthy canaries, but production's (green) answers 10 % of its requests with a 5xx: what the session shows
    let currentEnv = "";
    s.cw.traffic = (q) => {
      if (currentEnv !== "production") return steady()(q);
      // production's canary (green, 10 %) answers 10 % of its requests with a 5xx; blue 0.1 %
      const seconds = (q.end.getTime() - q.start.getTime()) / 1000;
      return metrics(
        { requests: 180 * seconds, target5xx: Math.round(0.18 * seconds) },
        { requests: 20 * seconds, target5xx: 2 * seconds },
      );
    };
    let last = 0;
    let ran = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.startsWith("$ npx envctl ")) {
        const args = withoutComment(line.slice("$ npx envctl ".length)).split(/\s+/);
        currentEnv = args[1] ?? "";
        s.lines.length = 0;
        last = await s.run(...args);
        ran++;
        // the output lines the page shows under the command, until the next `$`
        const shown = [];
        for (let j = i + 1; j < lines.length && !lines[j]!.startsWith("$ "); j++) shown.push(lines[j]!);
        const printed = s.text();
        if (process.env.SHOW) console.log(line, "\n", printed);
        for (const l of shown) expect(printed, `${line}\n${printed}`).toMatch(shownPattern(l));
        const next = lines.slice(i + 1).find((l) => l.startsWith("$ "));
        if (next !== "$ echo $?") expect(last, `${line}\n${printed}`).toBe(0);
      } else if (line === "$ echo $?") {
        expect(String(last)).toBe(lines[i + 1]);
        i++;
      }
    }
    expect(ran).toBeGreaterThanOrEqual(6);
  });
});

// ------------------------------------------------------------------------------------- the docs

/** The Markdown files of the documentation: the root's and every file under docs/. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  return [
    ...["README.md", "CONTRIBUTING.md", "ARCHITECTURE.md", "CHANGELOG.md"].filter((f) => existsSync(join(REPO, f))),
    ...walk("docs"),
  ];
}

/** Text outside fenced code blocks and inline code spans (a link in code is not a link). */
const prose = (md: string) => md.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, h] of md.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} (.+)$/gm)) {
    const base = h!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative links of a Markdown file (`[text](target)`), without web and mail links. */
function relativeLinks(file: string): string[] {
  return [...prose(read(file)).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

/** Where a link points: the repository-relative file (the linking file itself for `#anchor`) and the anchor. */
function target(from: string, link: string): { file: string; anchor: string | undefined } {
  const [path, anchor] = link.split("#") as [string, string | undefined];
  return { file: path === "" ? from : relative(REPO, resolve(REPO, dirname(from), path)), anchor };
}

describe("the documentation", () => {
  it("README.md is an entry, not a manual: at most 200 lines", () => {
    expect(read("README.md").split("\n").length).toBeLessThanOrEqual(200);
  });

  it("every relative link in the README, the root's Markdown files and docs/ resolves, anchors included", () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const link of relativeLinks(file)) {
        const t = target(file, link);
        const at = join(REPO, t.file);
        if (!existsSync(at)) broken.push(`${file}: ${link} (no ${t.file})`);
        else if (
          t.anchor !== undefined &&
          statSync(at).isFile() &&
          t.file.endsWith(".md") &&
          !anchors(read(t.file)).has(t.anchor)
        ) {
          broken.push(`${file}: ${link} (no heading #${t.anchor} in ${t.file})`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("every page of docs/ is reachable from README.md by following links", () => {
    const reached = new Set<string>(["README.md"]);
    const queue = ["README.md"];
    while (queue.length > 0) {
      const file = queue.shift()!;
      for (const link of relativeLinks(file)) {
        const t = target(file, link).file;
        if (t.endsWith(".md") && existsSync(join(REPO, t)) && !reached.has(t)) {
          reached.add(t);
          queue.push(t);
        }
      }
    }
    const pages = markdownFiles().filter((f) => f.startsWith("docs/"));
    expect(pages.length).toBeGreaterThanOrEqual(15);
    expect(pages.filter((p) => !reached.has(p))).toEqual([]);
  });

  it("no page points to an issue tracker the repository does not have", () => {
    const pointing = markdownFiles().flatMap((f) =>
      read(f)
        .split("\n")
        .filter((l) => /\(issues? \d+|\bissue \d+\b/i.test(l))
        .map((l) => `${f}: ${l}`),
    );
    expect(pointing).toEqual([]);
  });

  it("ARCHITECTURE.md lists exactly the folders of lib/, one line each", () => {
    const text = read("ARCHITECTURE.md");
    const at = text.indexOf("\n## Folders of lib/");
    expect(at).toBeGreaterThan(-1);
    const block = /```text\n([\s\S]*?)```/.exec(text.slice(at))![1]!;
    const listed = block
      .split("\n")
      .map((l) => /^lib\/([a-z0-9-]+)\/\s+\S/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined);
    const onDisk = readdirSync(join(REPO, "lib"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(listed).toEqual([...listed].sort());
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(onDisk.sort());
  });

  it("the emulator-gap table (docs/engine-and-emulator.md) lists exactly EMULATOR_GAPS", () => {
    const text = read("docs/engine-and-emulator.md");
    const at = text.indexOf("\n## Emulator gaps");
    expect(at).toBeGreaterThan(-1);
    const section = text.slice(at + 1).split(/\n## /)[0]!;
    const rows = section.split("\n").filter((l) => l.startsWith("| `"));
    const named = rows.flatMap((r) => [...r.split("|")[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
    expect(named.sort()).toEqual(Object.keys(EMULATOR_GAPS).sort());
  });
});
