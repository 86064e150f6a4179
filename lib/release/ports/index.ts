/**
 * The ports: everything the release needs from outside, in one place. The release package talks
 * to the world only through these interfaces; lib/cli (the composition root, lib/cli/compose.ts)
 * wires in the adapters — the release files on disk (lib/release/store), the deploy runner (the engine on the synthesized stacks)
 * (lib/deploy), the ALB, CloudWatch and RDS (lib/aws), the terminal (lib/cli/progress.ts) — and
 * tests wire in fakes (test/support/fakes.ts).
 *
 * Types only, plus {@link arnSuffix}: how a metrics query names the load balancer and target groups.
 */

export * from "./cloud.ts";
export * from "./database.ts";
export * from "./environments.ts";
export * from "./people.ts";
