/** Public API for environment files and tooling. */
export { defineEnvironment } from "./config/define.ts";
export { ConfigError } from "./config/errors.ts";
export { type LoadedEnvironment, loadProject, type Project } from "./config/load.ts";
export { defineAccountGroup } from "./config/schema/account.ts";
export type { Environment, EnvironmentInput, Slot, Tier } from "./config/schema.ts";
export type { Release } from "./release/model/release.ts";
