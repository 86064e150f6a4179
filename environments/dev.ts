import { defineEnvironment } from "../lib/index.ts";
import { accounts, shared, thresholds } from "./_defaults.ts";

export default defineEnvironment({
  ...shared,
  name: "dev",
  account: accounts.dev,
  tier: "development",
  domain: "dev.webapp.example.com",
  logLevel: "debug",
  network: { cidr: "10.0.0.0/16", azCount: 2, natGateways: "single", flowLogRetentionDays: 7 },
  compute: {
    kind: "ec2",
    instanceType: "t3.micro",
    capacity: { min: 1, desired: 1, max: 2 },
    autoScaling: { enabled: false },
  },
  database: {
    instanceClass: "db.t3.micro",
    allocatedStorageGb: 20,
    backupRetentionDays: 1,
    multiAz: false,
    deletionProtection: false,
  },
  cache: { nodeType: "cache.t3.micro", replicas: 0, automaticFailover: false },
  monitoring: { level: "basic", thresholds },
  backup: { rules: [{ name: "daily", schedule: "cron(0 3 * * ? *)", retainDays: 7 }] },
  app: {
    settings: {
      PUBLIC_BASE_URL: "http://dev.webapp.example.com",
      SMTP_HOST: "mailpit.dev.webapp.example.com",
      SMTP_PORT: 1025,
      MAIL_FROM: "noreply@dev.webapp.example.com",
      FEATURE_NEW_CHECKOUT: true,
      REQUEST_TIMEOUT_MS: 10000,
      PAYMENT_PROVIDER: "sandbox",
    },
    secrets: ["SMTP_PASSWORD"],
  },
  release: {
    // One step, baked long enough for one complete analysis window (60 s period + 120 s delay).
    canary: [{ percent: 100, bakeSeconds: 180 }],
    // dev sees little traffic: a step with too few requests bakes again (twice) before it fails.
    analysis: { onInconclusive: "extend", maxExtensions: 2 },
    promotesTo: ["staging"],
    snapshotBeforePromote: false,
  },
});
