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

/**
 * One AWS account per environment (example ids: replace them with yours; dev's is the AWS
 * documentation's example id, also the emulator's default account). envctl and every provider
 * assume `deployRoleArn` in the account and refuse credentials of any other account.
 */
export const accounts = {
  // dev's account also holds the global stack (the cross-environment dashboard).
  dev: { id: "123456789012", deployRoleArn: "arn:aws:iam::123456789012:role/envstack-deploy", hostsGlobal: true },
  staging: { id: "222222222222", deployRoleArn: "arn:aws:iam::222222222222:role/envstack-deploy" },
  production: {
    id: "333333333333",
    deployRoleArn: "arn:aws:iam::333333333333:role/envstack-deploy",
    externalId: "envstack-production",
  },
} as const;
