/** `envctl status` over many environments: a summary first, what needs attention in full, the rest grouped; --tier. */
import { describe, expect, it } from "vitest";
import { formatStatusSummary, needsAttention, type StatusView } from "../lib/cli/views/status.ts";
import { writeEstate } from "./bench/scale-estate.ts";
import { sandbox } from "./support/envctl.ts";

const view = (environment: string, tier: string, over: Partial<StatusView> = {}): StatusView => ({
  environment,
  tier,
  live: "blue",
  slots: { blue: { version: "1.5.0", weight: 100 }, green: { version: null, weight: 0 } },
  rollout: null,
  pending: null,
  lastChange: null,
  lastAnalysis: null,
  ...over,
});

describe("status at scale", () => {
  it("summarizes 500 environments: counts first, attention in full, steady ones grouped by tier and by what runs", () => {
    const views = [
      view("production", "production"),
      view("staging", "staging", {
        pending: { stacks: ["staging-traffic"], command: "envctl shift staging", since: "2026-12-05T09:00:00Z" },
      }),
      ...Array.from({ length: 498 }, (_, i) =>
        view(
          `team-${String(i).padStart(3, "0")}`,
          "development",
          i % 100 === 0
            ? { slots: { blue: { version: "1.4.0", weight: 100 }, green: { version: null, weight: 0 } } }
            : {},
        ),
      ),
    ];
    const text = formatStatusSummary(views);
    const lines = text.split("\n");
    expect(lines[0]).toBe("500 environments, 499 steady, 0 rolling out, 1 with an unfinished deploy, 0 in maintenance");
    expect(lines).toContain("needs attention (1):");
    expect(text).toContain("PENDING: deploy of staging-traffic by 'envctl shift staging'");
    expect(lines).toContain("development: 498 steady");
    expect(lines).toContain(
      "  live blue 1.5.0 (100 %): 493 — team-001, team-002, team-003, team-004, team-005, team-006, team-007, team-008 and 485 more",
    );
    expect(lines).toContain("  live blue 1.4.0 (100 %): 5 — team-000, team-100, team-200, team-300, team-400");
    expect(lines.length).toBeLessThan(30);
    expect(
      needsAttention(
        view("x", "development", {
          slots: { blue: { version: "1", weight: 90 }, green: { version: "2", weight: 10 } },
        }),
      ),
    ).toBe(true);
  });

  it("envctl status prints the summary above 12 environments and filters by --tier (validated)", async () => {
    const s = sandbox((dir) => writeEstate(dir, { total: 20, previews: 3 }));
    const all = await s.run(["status"]);
    expect(all.status).toBe(0);
    expect(all.stdout.split("\n")[0]).toBe(
      "20 environments, 20 steady, 0 rolling out, 0 with an unfinished deploy, 0 in maintenance",
    );
    const prod = await s.run(["status", "--tier", "production"]);
    expect(prod.stdout).toMatch(/^production \(production\)\s+live: blue/);
    expect(prod.stdout).not.toContain("staging");
    const bad = await s.run(["status", "--tier", "prod"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/status: --tier/);
    // the JSON keeps every environment's full view
    const json = JSON.parse((await s.run(["status", "--json", "--tier", "development"])).stdout);
    expect(json).toHaveLength(18);
  });
});
