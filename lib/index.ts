/** Public API for environment files and tooling. */
export { defineEnvironment } from "./config/define.ts";
export type { Environment, EnvironmentInput, Tier, Slot } from "./config/schema.ts";
export type { Release } from "./release/model.ts";
export { loadProject, type Project, type LoadedEnvironment } from "./config/load.ts";
export { ConfigError } from "./config/errors.ts";
