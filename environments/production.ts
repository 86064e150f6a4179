import { defineEnvironment } from "../lib/index.ts";
import { accounts, shared, thresholds } from "./_defaults.ts";

export default defineEnvironment({
  ...shared,
  name: "production",
  account: accounts.production,
  // Two people other than the author approve each change (the production default, stated).
  approvals: { required: 2, from: [] },
  tier: "production",
  domain: "webapp.example.com",
  certificateArn: "arn:aws:acm:eu-west-1:333333333333:certificate/00000000-0000-4000-8000-0000production",
  logLevel: "warn",
  network: { cidr: "10.2.0.0/16", azCount: 3, natGateways: "per-az", flowLogRetentionDays: 365 },
  compute: {
    kind: "eks",
    // Private API endpoint only.
    publicAccessCidrs: [],
    nodeGroups: [
      { name: "general", instanceTypes: ["m5.large"], capacity: { min: 3, desired: 3, max: 10 } },
      {
        name: "spot",
        instanceTypes: ["m5.large", "m5a.large", "m4.large"],
        capacityType: "SPOT",
        capacity: { min: 0, desired: 2, max: 5 },
      },
    ],
    replicas: 3,
    autoScaling: { enabled: true, targetCpuPercent: 70, maxReplicas: 10 },
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    podDisruptionBudget: { maxUnavailable: 1 },
  },
  database: {
    instanceClass: "db.t3.medium",
    allocatedStorageGb: 100,
    backupRetentionDays: 30,
    multiAz: true,
    deletionProtection: true,
  },
  cache: { nodeType: "cache.r6g.large", replicas: 1, automaticFailover: true },
  monitoring: { level: "full", alarmEmails: ["oncall@example.com"], thresholds },
  waf: { rateLimitPerIp: 2000, logRetentionDays: 365 },
  // Every 6 hours; each point kept 7 days (daily 7), weekly 4, monthly 6, yearly 2; every
  // recovery point copied to Frankfurt; the vault lock turns immutable 3 days after it is set.
  backup: {
    rules: [
      { name: "every-6h", schedule: "cron(0 0/6 * * ? *)", retainDays: 7 },
      { name: "weekly", schedule: "cron(0 3 ? * SUN *)", retainDays: 28 },
      { name: "monthly", schedule: "cron(0 4 1 * ? *)", retainDays: 183 },
      { name: "yearly", schedule: "cron(0 5 1 1 ? *)", retainDays: 730 },
    ],
    copyToRegion: "eu-central-1",
    vaultLock: { minRetentionDays: 7, maxRetentionDays: 730, changeableForDays: 3 },
  },
  app: {
    settings: {
      PUBLIC_BASE_URL: "https://webapp.example.com",
      SMTP_HOST: "email-smtp.eu-west-1.amazonaws.com",
      SMTP_PORT: 587,
      MAIL_FROM: "noreply@webapp.example.com",
      FEATURE_NEW_CHECKOUT: false,
      REQUEST_TIMEOUT_MS: 5000,
      PAYMENT_PROVIDER: "stripe",
    },
    secrets: ["SMTP_PASSWORD", "PAYMENT_API_KEY"],
  },
  release: {
    canary: [
      { percent: 10, bakeSeconds: 300 },
      { percent: 50, bakeSeconds: 600 },
      { percent: 100, bakeSeconds: 600 },
    ],
    // Stricter than the seeds' 95 %: production compares with the stable slot too (+0.5 points at most),
    // and keeps watching the new slot for 15 minutes after the switch (the old slot keeps its version).
    analysis: { minSuccessRatePercent: 99, postSwitchWatchSeconds: 900 },
    promotesTo: [],
    rollbackTo: ["staging"],
    snapshotBeforePromote: true,
  },
});
