import { defineEnvironment } from "../lib/index.ts";
import { accounts, shared, thresholds } from "./_defaults.ts";

export default defineEnvironment({
  ...shared,
  name: "staging",
  account: accounts.staging,
  tier: "staging",
  domain: "staging.webapp.example.com",
  certificateArn: "arn:aws:acm:eu-west-1:222222222222:certificate/00000000-0000-4000-8000-00000000staging",
  logLevel: "info",
  network: { cidr: "10.1.0.0/16", azCount: 2, natGateways: "single", flowLogRetentionDays: 30 },
  compute: {
    kind: "eks",
    // Private API endpoint only: list real admin networks here to open a public endpoint to them.
    publicAccessCidrs: [],
    nodeGroups: [{ name: "general", instanceTypes: ["t3.medium"], capacity: { min: 1, desired: 2, max: 5 } }],
    replicas: 2,
    autoScaling: { enabled: false },
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  },
  database: {
    instanceClass: "db.t3.small",
    allocatedStorageGb: 50,
    backupRetentionDays: 14,
    multiAz: false,
    deletionProtection: true,
  },
  cache: { nodeType: "cache.t3.small", replicas: 0, automaticFailover: false },
  monitoring: { level: "enhanced", alarmEmails: ["oncall-staging@example.com"], thresholds },
  // The same WAF as production, so its rules meet the application before production does.
  waf: { rateLimitPerIp: 2000, logRetentionDays: 30 },
  backup: {
    rules: [
      { name: "daily", schedule: "cron(0 3 * * ? *)", retainDays: 7 },
      { name: "weekly", schedule: "cron(0 4 ? * SUN *)", retainDays: 28 },
    ],
  },
  app: {
    settings: {
      PUBLIC_BASE_URL: "https://staging.webapp.example.com",
      SMTP_HOST: "email-smtp.eu-west-1.amazonaws.com",
      SMTP_PORT: 587,
      MAIL_FROM: "noreply@staging.webapp.example.com",
      FEATURE_NEW_CHECKOUT: true,
      REQUEST_TIMEOUT_MS: 5000,
      PAYMENT_PROVIDER: "sandbox",
    },
    secrets: ["SMTP_PASSWORD", "PAYMENT_API_KEY"],
  },
  release: {
    canary: [
      { percent: 50, bakeSeconds: 300 },
      { percent: 100, bakeSeconds: 300 },
    ],
    analysis: { minSuccessRatePercent: 95, postSwitchWatchSeconds: 300 },
    promotesTo: ["production"],
    snapshotBeforePromote: false,
  },
});
