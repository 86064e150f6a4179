/**
 * The listener's maintenance rules, in memory, as lib/aws/maintenance.ts writes them: the fast
 * band's page and CIDR bypass, the header bypass (envctl's own rule, at the fast band's header
 * priority, its value copied from a secret), and the traffic stack's rules (`deployFrom`).
 * Every call is recorded in `log`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAINTENANCE_PRIORITIES, WEIGHTED_RULE_PRIORITY } from "../../lib/constructs/naming.ts";
import type { Maintenance } from "../../lib/release/model/maintenance.ts";
import type { MaintenanceRules, MaintenanceSwitch } from "../../lib/release/ports/index.ts";

export class FakeMaintenance implements MaintenanceSwitch {
  fast: Maintenance | null = null;
  stack: Maintenance | null = null;
  /** The header bypass rule: its header and the value it matches. */
  header: { name: string; value: string } | null = null;
  /** `on` fails as an unreachable API would. */
  fail = false;
  /** The secrets a bypass header may name: id → current version and value. */
  readonly secrets = new Map<string, { version: string; value: string }>([
    ["webapp/dev/maintenance-bypass", { version: "v-1", value: "7f3a9c" }],
  ]);
  constructor(readonly log: string[] = []) {}

  async read(): Promise<MaintenanceRules> {
    this.log.push("read");
    const f = MAINTENANCE_PRIORITIES.fast;
    const s = MAINTENANCE_PRIORITIES.stack;
    const fast = this.fast ? [...(this.fast.allowCidrs.length ? [f.cidr] : []), f.page] : [];
    const stack = this.stack ? [...(this.stack.allowCidrs.length ? [s.cidr] : []), s.page] : [];
    const pageOf = this.fast ? { m: this.fast, p: f.page } : this.stack ? { m: this.stack, p: s.page } : null;
    return {
      priorities: [...fast, ...(this.header ? [f.header] : []), ...stack].sort((a, b) => a - b),
      page: pageOf ? { statusCode: "503", body: pageOf.m.message, priority: pageOf.p } : null,
      weightedPriority: WEIGHTED_RULE_PRIORITY,
    };
  }
  async bypassVersion(id: string): Promise<string> {
    const s = this.secrets.get(id);
    if (!s) throw new Error(`could not read the bypass header's secret ${id}: ResourceNotFoundException`);
    return s.version;
  }
  async on(m: Maintenance): Promise<void> {
    if (this.fail) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const secret = m.allowHeader ? this.secrets.get(m.allowHeader.secret.id) : undefined;
    if (m.allowHeader && secret?.version !== m.allowHeader.secret.version)
      throw new Error(`could not read the bypass header's secret ${m.allowHeader.secret.id} at its version`);
    this.log.push("direct on");
    this.fast = m;
    this.header = m.allowHeader && secret ? { name: m.allowHeader.name, value: secret.value } : null;
  }
  async remove(which: "fast" | "all"): Promise<void> {
    this.log.push(`remove ${which}`);
    this.fast = null;
    if (which === "all") {
      this.stack = null;
      this.header = null;
    }
  }
  async syncBypass(): Promise<boolean> {
    this.log.push("sync bypass");
    return this.header !== null;
  }
  /** What the traffic stack's deploy does to the listener: its rules follow the release file. */
  deployFrom(dir: string, env: string): void {
    this.stack =
      JSON.parse(readFileSync(join(dir, "environments/releases", `${env}.json`), "utf8")).maintenance ?? null;
  }
}
