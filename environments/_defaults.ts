/**
 * Shared defaults of every environment (this file is not an environment: files starting with
 * `_` are skipped by discovery). Environment files spread these and add their own sizing.
 */
export const shared = {
  project: "webapp",
  region: "eu-west-1",
  owner: "platform-team",
  costCenter: "cc-1042",
  appPort: 3000,
  healthCheckPath: "/health",
  image: { repository: "ghcr.io/example/webapp" },
} as const;

/** Alert thresholds from the operations runbook. */
export const thresholds = {
  errorRatePercent: 1,
  latencyP99Seconds: 1,
  cpuPercent: 80,
  memoryPercent: 85,
} as const;
