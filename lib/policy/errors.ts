import { formatFinding } from "./check.ts";
import type { Finding } from "./types.ts";

export class PolicyError extends Error {
  constructor(readonly findings: readonly Finding[]) {
    super(`policy violations:\n${findings.map((f) => `  - ${formatFinding(f)}`).join("\n")}`);
    this.name = "PolicyError";
  }
}
